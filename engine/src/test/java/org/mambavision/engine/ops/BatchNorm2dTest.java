package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class BatchNorm2dTest {
    /** Per-channel mean and biased variance in double over (N, [H, W]). */
    private static double[][] stats(Tensor x) {
        int n = x.dim(0), c = x.dim(1), plane = x.numel() / (n * c);
        double[] mean = new double[c], var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int i = 0; i < n; i++) for (int p = 0; p < plane; p++) s += x.data[(i * c + ch) * plane + p];
            mean[ch] = s / (n * plane);
            double v = 0;
            for (int i = 0; i < n; i++) for (int p = 0; p < plane; p++) {
                double d = x.data[(i * c + ch) * plane + p] - mean[ch];
                v += d * d;
            }
            var[ch] = v / (n * plane);
        }
        return new double[][] {mean, var};
    }

    private static void assertNormalised(Tensor x, Tensor out, double[] mean, double[] var, Tensor w, Tensor b, float eps) {
        int n = x.dim(0), c = x.dim(1), plane = x.numel() / (n * c);
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < plane; p++) {
                    int k = (i * c + ch) * plane + p;
                    double ref = (x.data[k] - mean[ch]) / Math.sqrt(var[ch] + eps) * (w == null ? 1 : w.data[ch]) + (b == null ? 0 : b.data[ch]);
                    assertEquals(ref, out.data[k], 1e-4 * (1 + Math.abs(ref)), "at " + k);
                }
    }

    @Test
    void trainingUsesBatchStatsAndUpdatesRunningStatsUnbiased() {
        SplittableRandom rng = new SplittableRandom(1);
        Tensor x = Tensor.randn(rng, 2f, 3, 5, 7, 6);
        for (int i = 0; i < x.numel(); i++) x.data[i] += 3f; // non-zero mean
        Tensor w = Tensor.randn(rng, 1f, 5), b = Tensor.randn(rng, 1f, 5);
        Tensor rm = Tensor.randn(rng, 1f, 5), rv = Tensor.uniform(rng, 0.5f, 2f, 5);
        float[] rm0 = rm.data.clone(), rv0 = rv.data.clone();
        Tensor out = BatchNorm2d.forward(x, w, b, rm, rv, true, 0.1f, 1e-5f);
        double[][] s = stats(x);
        assertNormalised(x, out, s[0], s[1], w, b, 1e-5f);
        int m = 3 * 7 * 6;
        for (int ch = 0; ch < 5; ch++) {
            assertEquals(0.9 * rm0[ch] + 0.1 * s[0][ch], rm.data[ch], 1e-5);
            assertEquals(0.9 * rv0[ch] + 0.1 * s[1][ch] * m / (m - 1), rv.data[ch], 1e-5);
        }
    }

    @Test
    void evalUsesRunningStatsAndLeavesThemAlone() {
        SplittableRandom rng = new SplittableRandom(2);
        Tensor x = Tensor.randn(rng, 1f, 2, 7, 5, 3);
        Tensor w = Tensor.randn(rng, 1f, 7), b = Tensor.randn(rng, 1f, 7);
        Tensor rm = Tensor.randn(rng, 1f, 7), rv = Tensor.uniform(rng, 0.5f, 2f, 7);
        float[] rm0 = rm.data.clone(), rv0 = rv.data.clone();
        Tensor out = BatchNorm2d.forward(x, w, b, rm, rv, false, 0.1f, 1e-4f);
        double[] mean = new double[7], var = new double[7];
        for (int ch = 0; ch < 7; ch++) {
            mean[ch] = rm0[ch];
            var[ch] = rv0[ch];
        }
        assertNormalised(x, out, mean, var, w, b, 1e-4f);
        assertArrayEquals(rm0, rm.data);
        assertArrayEquals(rv0, rv.data);
    }

    @Test
    void twoDimensionalInputAndNoAffine() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor x = Tensor.randn(rng, 1f, 9, 13);
        Tensor out = BatchNorm2d.forward(x, null, null, null, null, true, 0.1f, 1e-5f);
        double[][] s = stats(x);
        assertNormalised(x, out, s[0], s[1], null, null, 1e-5f);
        // Without running statistics, eval mode also normalises with the batch statistics (as PyTorch).
        Tensor ev = BatchNorm2d.forward(x, null, null, null, null, false, 0.1f, 1e-5f);
        assertArrayEquals(out.data, ev.data);
    }

    @Test
    void gradientsTrainMode() {
        SplittableRandom rng = new SplittableRandom(4);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 5, 7).name("x");
        Tensor w = Tensor.randn(rng, 1f, 3).name("weight"), b = Tensor.randn(rng, 1f, 3).name("bias");
        Tensor rm = Tensor.zeros(3), rv = Tensor.full(1f, 3);
        GradCheck.check("BatchNorm2d train", () -> BatchNorm2d.forward(x, w, b, rm, rv, true, 0.1f, 1e-5f), x, w, b);
        Tensor x2 = Tensor.randn(rng, 1f, 6, 5).name("x2d");
        GradCheck.check("BatchNorm2d train (N, C)", () -> BatchNorm2d.forward(x2, null, null, null, null, true, 0.1f, 1e-5f), x2);
        Tensor x3 = Tensor.randn(rng, 1f, 3, 2, 11, 3).name("x");
        Tensor w3 = Tensor.randn(rng, 1f, 2).name("weight");
        GradCheck.check("BatchNorm2d train no bias", () -> BatchNorm2d.forward(x3, w3, null, null, null, true, 0.1f, 1e-5f), x3, w3);
    }

    @Test
    void gradientsEvalMode() {
        SplittableRandom rng = new SplittableRandom(5);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 5, 7).name("x");
        Tensor w = Tensor.randn(rng, 1f, 3).name("weight"), b = Tensor.randn(rng, 1f, 3).name("bias");
        Tensor rm = Tensor.randn(rng, 1f, 3), rv = Tensor.uniform(rng, 0.5f, 2f, 3);
        GradCheck.check("BatchNorm2d eval", () -> BatchNorm2d.forward(x, w, b, rm, rv, false, 0.1f, 1e-5f), x, w, b);
    }

    @Test
    void shapeErrors() {
        Tensor x = Tensor.zeros(2, 3, 4, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> BatchNorm2d.forward(x, Tensor.zeros(4), null, null, null, true, 0.1f, 1e-5f));
        assertTrue(e.getMessage().contains("BatchNorm2d") && e.getMessage().contains("[2, 3, 4, 4]") && e.getMessage().contains("[4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BatchNorm2d.forward(Tensor.zeros(2, 3, 4), null, null, null, null, true, 0.1f, 1e-5f));
        assertThrows(IllegalArgumentException.class, () -> BatchNorm2d.forward(Tensor.zeros(1, 3), null, null, null, null, true, 0.1f, 1e-5f));
    }
}
