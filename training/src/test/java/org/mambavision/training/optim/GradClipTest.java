package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tensor;

class GradClipTest {
    @Test
    void normAndClipping() {
        Tensor a = grad(new float[] {3f, 4f}), b = grad(new float[] {12f}), none = Tensor.zeros(5).requiresGrad(true);
        List<Tensor> ps = List.of(a, b, none);
        assertEquals(13.0, GradClip.globalNorm(ps), 1e-12);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 20), 1e-12); // below the limit: untouched
        assertArrayEquals(new float[] {3f, 4f}, a.grad);
        assertEquals(13.0, GradClip.clipGlobalNorm(ps, 6.5), 1e-12);
        float c = (float) (6.5 / (13 + 1e-6));
        assertArrayEquals(new float[] {3f * c, 4f * c}, a.grad);
        assertArrayEquals(new float[] {12f * c}, b.grad);
        assertEquals(6.5, GradClip.globalNorm(ps), 1e-5);
        assertEquals(null, none.grad);
    }

    @Test
    void largeNormMatchesDoubleReferenceAndIsRepeatable() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor big = Tensor.zeros(100_003).requiresGrad(true), odd = Tensor.zeros(33).requiresGrad(true);
        for (Tensor t : List.of(big, odd)) {
            t.grad = new float[t.numel()];
            for (int i = 0; i < t.grad.length; i++) t.grad[i] = (float) Tensor.gaussian(rng);
        }
        double sq = 0;
        for (Tensor t : List.of(big, odd)) for (float g : t.grad) sq += (double) g * g;
        double n1 = GradClip.globalNorm(List.of(big, odd)), n2 = GradClip.globalNorm(List.of(big, odd));
        assertEquals(Math.sqrt(sq), n1, 1e-9 * n1);
        assertEquals(n1, n2, 0.0);
    }

    @Test
    void finiteness() {
        for (int pos : new int[] {0, 5, 16, 31, 32}) { // vector lanes and the scalar tail of a 33-element array
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] g = new float[33];
                g[pos] = bad;
                assertFalse(GradClip.allFinite(List.of(grad(new float[] {1f}), grad(g))), "bad value at " + pos);
            }
        }
        assertTrue(GradClip.allFinite(List.of(grad(new float[33]), Tensor.zeros(3).requiresGrad(true))));
        assertTrue(GradClip.allFinite(List.of(grad(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE}))));
    }

    private static Tensor grad(float[] g) {
        Tensor t = Tensor.zeros(g.length).requiresGrad(true);
        t.grad = g;
        return t;
    }
}
