package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class AttentionTest {
    private static double[] naive(Tensor q, Tensor k, Tensor v, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), hd = q.dim(3);
        double[] out = new double[q.numel()];
        double[] s = new double[n];
        for (int h = 0; h < bh; h++) {
            int base = h * n * hd;
            for (int i = 0; i < n; i++) {
                double m = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j < n; j++) {
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += (double) q.data[base + i * hd + c] * k.data[base + j * hd + c];
                    s[j] = d * scale;
                    m = Math.max(m, s[j]);
                }
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - m);
                    z += s[j];
                }
                for (int c = 0; c < hd; c++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += s[j] / z * v.data[base + j * hd + c];
                    out[base + i * hd + c] = acc;
                }
            }
        }
        return out;
    }

    @Test
    void forwardMatchesNaive() {
        int[][] shapes = {{2, 3, 13, 5}, {1, 1, 33, 8}, {4, 2, 49, 16}, {1, 2, 197, 40}};
        long seed = 1;
        for (int[] s : shapes) {
            Tensor q = TestUtil.randn(seed++, s), k = TestUtil.randn(seed++, s), v = TestUtil.randn(seed++, s);
            float scale = (float) (1 / Math.sqrt(s[3]));
            TestUtil.assertClose("attention " + q.shapeString(), naive(q, k, v, scale), Attention.forward(q, k, v, scale).data, 1e-4, 1e-5);
        }
    }

    @Test
    void gradients() {
        Tensor q = TestUtil.randn(1, 2, 3, 13, 5).name("q"), k = TestUtil.randn(2, 2, 3, 13, 5).name("k"), v = TestUtil.randn(3, 2, 3, 13, 5).name("v");
        GradCheck.check("Attention", () -> Attention.forward(q, k, v, 0.45f), q, k, v);
        // one tensor as q, k and v: its gradient sums the three parts
        Tensor x = TestUtil.randn(7, 1, 2, 11, 4).name("x");
        GradCheck.check("Attention (x, x, x)", () -> Attention.forward(x, x, x, 0.4f), x);
        // only v needs a gradient
        Tensor q2 = TestUtil.randn(4, 1, 2, 9, 4), k2 = TestUtil.randn(5, 1, 2, 9, 4), v2 = TestUtil.randn(6, 1, 2, 9, 4).name("v");
        Tensor out = Attention.forward(q2, k2, v2.requiresGrad(true), 0.5f);
        Tape.backward(out, new float[out.numel()]);
        assertNull(q2.grad);
        GradCheck.check("Attention (v only)", () -> Attention.forward(q2, k2, v2, 0.5f), v2);
    }

    @Test
    void backwardOverSeveralQueryBlocks() {
        // N = 300 > the 256 rows of one backward block; probe a sample of elements
        Tensor q = TestUtil.randn(11, 1, 2, 300, 4).name("q"), k = TestUtil.randn(12, 1, 2, 300, 4).name("k"), v = TestUtil.randn(13, 1, 2, 300, 4).name("v");
        for (GradCheck.Result r : GradCheck.run(() -> Attention.forward(q, k, v, 0.7f), 1e-2, 60, q, k, v)) {
            assertTrue(r.relError() < 1e-2, "Attention N=300 gradient of " + r.input() + ": " + r.relError());
        }
    }

    /** The official composition of reshape, permute, attention, transpose, reshape. */
    private static Tensor composed(Tensor qkv, int heads, float scale) {
        int b = qkv.dim(0), n = qkv.dim(1), c = qkv.dim(2) / 3, hd = c / heads;
        Tensor p = Shapes.permute(qkv.reshape(b, n, 3, heads, hd), 2, 0, 3, 1, 4);
        Tensor[] parts = Shapes.split(p, 0, 1, 1, 1);
        Tensor x = Attention.forward(parts[0].reshape(b, heads, n, hd), parts[1].reshape(b, heads, n, hd), parts[2].reshape(b, heads, n, hd), scale);
        return Shapes.transpose(x, 1, 2).reshape(b, n, c);
    }

    @Test
    void qkvAttentionMatchesOfficialLayout() {
        Tensor qkv = TestUtil.randn(7, 2, 17, 3 * 12);
        float scale = (float) Math.pow(4, -0.5);
        Tensor fused = Attention.qkvAttention(qkv, 3, scale);
        assertArrayEquals(new int[] {2, 17, 12}, fused.shape());
        TestUtil.assertClose("qkvAttention", composed(qkv, 3, scale).data, fused.data, 1e-5, 1e-6);
        Tensor small = TestUtil.randn(8, 2, 7, 3 * 6).name("qkv");
        GradCheck.check("qkvAttention", () -> Attention.qkvAttention(small, 2, 0.6f), small);
        // and the same gradient as the composed version
        small.grad = null;
        float[] w = new float[2 * 7 * 6];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i);
        Tape.backward(Attention.qkvAttention(small, 2, 0.6f), w);
        float[] fusedGrad = small.grad.clone();
        small.grad = null;
        Tape.backward(composed(small, 2, 0.6f), w);
        TestUtil.assertClose("qkvAttention grad", small.grad, fusedGrad, 1e-4, 1e-6);
    }

    @Test
    void shapeErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Attention.forward(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 4, 4), 1f));
        assertTrue(e.getMessage().startsWith("Attention") && e.getMessage().contains("[1, 2, 4, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.qkvAttention(Tensor.zeros(1, 5, 10), 2, 1f));
        assertTrue(e.getMessage().contains("[1, 5, 10]"), e.getMessage());
    }
}
