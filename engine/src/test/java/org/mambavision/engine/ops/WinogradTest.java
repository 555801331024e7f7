package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tensor;

class WinogradTest {
    /** Norm of the difference over the norm of the double-precision reference. */
    private static double relError(float[] actual, float[] ref) {
        double d = 0, n = 0;
        for (int i = 0; i < ref.length; i++) {
            d += (actual[i] - (double) ref[i]) * (actual[i] - (double) ref[i]);
            n += (double) ref[i] * ref[i];
        }
        return Math.sqrt(d / n);
    }

    private static double error(Winograd.Transform f, int n, int cin, int h, int w, int cout, boolean bias) {
        SplittableRandom rng = new SplittableRandom(n * 131 + cin * 17 + h * 5 + w + f.m());
        Tensor x = Tensor.randn(rng, 1f, n, cin, h, w);
        Tensor wt = Tensor.randn(rng, 0.3f, cout, cin, 3, 3);
        Tensor b = bias ? Tensor.randn(rng, 1f, cout) : null;
        ConvGeometry g = ConvGeometry.of(x, wt, b, 1, 1, 1, 1);
        float[] out = new float[n * cout * h * w];
        Winograd.forward(g, x.data, wt.data, b == null ? null : b.data, out, false, null, null, f);
        return relError(out, Conv2dTest.reference(x, wt, b, 1, 1, 1, 1));
    }

    @Test
    void bothTileSizesMatchTheDirectSumEveryShape() {
        // Tails in both directions, single images, groups of images with a partial last group, maps smaller
        // than a tile, tile rows longer than a vector, and the conv blocks' channel counts.
        int[][] shapes = {
            {1, 3, 13, 11, 5}, {3, 7, 13, 11, 9}, {2, 4, 9, 10, 3}, {5, 2, 17, 17, 3}, {1, 2, 1, 1, 2}, {2, 3, 2, 3, 4},
            {1, 5, 3, 5, 2}, {2, 8, 24, 20, 8}, {2, 16, 9, 13, 16}, {1, 6, 70, 37, 4}, {Parallel.threads() + 1, 9, 40, 29, 5},
            {2, 80, 28, 28, 80}, {40, 3, 6, 6, 4},
        };
        for (Winograd.Transform f : new Winograd.Transform[] {Winograd.Transform.F2, Winograd.Transform.F4}) {
            for (int[] s : shapes) {
                double err = error(f, s[0], s[1], s[2], s[3], s[4], s[0] % 2 == 1);
                // float rounding of a sum of 9*cin products is ~1e-7 relative; F(4x4) amplifies it about ten times (measured up to 2e-6 at 80 channels)
                double tol = f.m() == 2 ? 1e-6 : 1e-5;
                assertTrue(err < tol, "F(" + f.m() + ") " + java.util.Arrays.toString(s) + ": relative error " + err);
            }
        }
    }

    /** dL/dw against the direct path's weight gradient (float; measured up to 6e-7 for F(2x2), 2.4e-6 for F(4x4)). */
    private static double weightGradError(Winograd.Transform f, int n, int cin, int h, int w, int cout) {
        SplittableRandom rng = new SplittableRandom(n * 7 + cin * 3 + h * 11 + w + f.m());
        Tensor x = Tensor.randn(rng, 1f, n, cin, h, w);
        Tensor gout = Tensor.randn(rng, 1f, n, cout, h, w);
        ConvGeometry g = ConvGeometry.of(x, Tensor.zeros(cout, cin, 3, 3), null, 1, 1, 1, 1);
        float[] expected = new float[cout * cin * 9], actual = new float[cout * cin * 9];
        DirectConv.weightGrad(g, x.data, gout.data, expected);
        java.util.Arrays.fill(actual, 1f); // accumulates: start from ones and take them off again
        Winograd.weightGrad(g, x.data, gout.data, actual, f);
        for (int i = 0; i < actual.length; i++) actual[i] -= 1f;
        return relError(actual, expected);
    }

    @Test
    void weightGradientMatchesTheDirectPath() {
        int[][] shapes = {
            {1, 3, 13, 11, 5}, {3, 7, 13, 11, 9}, {5, 2, 17, 17, 3}, {2, 3, 2, 3, 4}, {1, 6, 70, 37, 4},
            {Parallel.threads() + 1, 9, 40, 29, 5}, {2, 32, 28, 28, 32}, {40, 3, 6, 6, 4},
        };
        for (Winograd.Transform f : new Winograd.Transform[] {Winograd.Transform.F2, Winograd.Transform.F4}) {
            for (int[] s : shapes) {
                double err = weightGradError(f, s[0], s[1], s[2], s[3], s[4]);
                assertTrue(err < (f.m() == 2 ? 2e-6 : 2e-5), "F(" + f.m() + ") " + java.util.Arrays.toString(s) + ": relative error " + err);
            }
        }
    }

    private static Winograd.Transform chosen(int h, int w, int k, int stride, int pad) {
        return chosen(8, h, w, k, stride, pad);
    }

    private static Winograd.Transform chosen(int n, int h, int w, int k, int stride, int pad) {
        return Winograd.transformFor(ConvGeometry.of(Tensor.zeros(n, 2, h, w), Tensor.zeros(3, 2, k, k), null, stride, stride, pad, pad));
    }

    @Test
    void tileSizeFollowsTheMapSize() {
        assertSame(Winograd.Transform.F4, chosen(56, 56, 3, 1, 1));
        assertSame(Winograd.Transform.F4, chosen(16, 40, 3, 1, 1));
        assertSame(Winograd.Transform.F2, chosen(15, 40, 3, 1, 1));
        assertSame(Winograd.Transform.F2, chosen(10, 10, 3, 1, 1));
        assertSame(Winograd.Transform.F4, chosen(1, 56, 56, 3, 1, 1)); // 196 tiles of 4x4 in one image
        assertSame(Winograd.Transform.F2, chosen(1, 28, 28, 3, 1, 1)); // 49: too few columns for F(4x4)
        assertSame(Winograd.Transform.F4, chosen(2, 28, 28, 3, 1, 1)); // 98
        assertNull(chosen(9, 40, 3, 1, 1));  // narrow maps: the direct path
        assertNull(chosen(56, 56, 3, 2, 1)); // strided, unpadded or other kernels: never
        assertNull(chosen(56, 56, 3, 1, 0));
        assertNull(chosen(56, 56, 5, 1, 1));
        // memory cap: 36 * 80 * 362^2 floats per buffer is more than 2^25, 36 * 80 * 100^2 is not
        assertNull(Winograd.transformFor(new ConvGeometry(1, 80, 1448, 1448, 80, 3, 3, 1, 1, 1, 1, 1448, 1448)));
        assertSame(Winograd.Transform.F4, Winograd.transformFor(new ConvGeometry(1, 80, 400, 400, 80, 3, 3, 1, 1, 1, 1, 400, 400)));
    }
}
