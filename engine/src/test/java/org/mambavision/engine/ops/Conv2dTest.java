package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class Conv2dTest {
    /** Plain loops in double: out[n,co,oy,ox] = b[co] + sum w[co,ci,ky,kx] * x[n,ci,oy*sh-ph+ky,ox*sw-pw+kx]. */
    static float[] reference(Tensor x, Tensor w, Tensor b, int sh, int sw, int ph, int pw) {
        int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3), cout = w.dim(0), kh = w.dim(2), kw = w.dim(3);
        int ho = (h + 2 * ph - kh) / sh + 1, wo = (wd + 2 * pw - kw) / sw + 1;
        float[] out = new float[n * cout * ho * wo];
        for (int in = 0; in < n; in++)
            for (int co = 0; co < cout; co++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double s = b == null ? 0 : b.data[co];
                        for (int ci = 0; ci < cin; ci++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    s += (double) w.data[((co * cin + ci) * kh + ky) * kw + kx] * x.data[((in * cin + ci) * h + iy) * wd + ix];
                                }
                        out[((in * cout + co) * ho + oy) * wo + ox] = (float) s;
                    }
        return out;
    }

    private static void assertMatches(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, boolean bias) {
        SplittableRandom rng = new SplittableRandom(n * 31 + cin * 7 + h + kh * 13 + sh);
        Tensor x = Tensor.randn(rng, 1f, n, cin, h, w);
        Tensor wt = Tensor.randn(rng, 0.3f, cout, cin, kh, kw);
        Tensor b = bias ? Tensor.randn(rng, 1f, cout) : null;
        Tensor out = Conv2d.forward(x, wt, b, sh, sw, ph, pw);
        float[] ref = reference(x, wt, b, sh, sw, ph, pw);
        String what = n + "x" + cin + "x" + h + "x" + w + " k" + kh + "x" + kw + " s" + sh + "x" + sw + " p" + ph + "x" + pw + " ->" + cout;
        assertArrayEquals(new int[] {n, cout, (h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1}, out.shape(), what);
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i], out.data[i], 1e-4f * (1 + Math.abs(ref[i])), what + " at " + i);
        }
    }

    @Test
    void forwardMatchesNaiveLoops() {
        assertMatches(2, 5, 9, 7, 7, 1, 1, 1, 1, 0, 0, true);      // 1x1 s1: input used as the im2col matrix
        assertMatches(1, 5, 9, 7, 3, 1, 1, 1, 1, 0, 0, false);
        assertMatches(2, 4, 9, 8, 3, 1, 1, 2, 2, 0, 0, true);      // 1x1 s2: general path
        assertMatches(1, 3, 13, 11, 5, 3, 3, 1, 1, 1, 1, true);    // 3x3 s1 p1, odd sizes, single image
        assertMatches(3, 7, 13, 11, 9, 3, 3, 1, 1, 1, 1, false);
        assertMatches(2, 3, 13, 11, 5, 3, 3, 2, 2, 1, 1, true);    // 3x3 s2 p1 (stem / downsample)
        assertMatches(1, 3, 12, 12, 4, 3, 3, 2, 2, 1, 1, false);
        assertMatches(2, 3, 13, 11, 4, 5, 5, 1, 1, 2, 2, true);    // 5x5 p2
        assertMatches(2, 3, 10, 9, 5, 5, 5, 2, 2, 0, 0, false);    // 5x5 s2 no pad
        assertMatches(2, 3, 9, 11, 5, 2, 3, 2, 1, 1, 0, true);     // rectangular kernel, stride and padding
        assertMatches(2, 3, 9, 11, 5, 2, 3, 1, 3, 0, 2, false);
        assertMatches(2, 3, 32, 48, 5, 16, 16, 16, 16, 0, 0, true); // 16x16 s16 patchify
        assertMatches(1, 2, 35, 33, 3, 16, 16, 16, 16, 0, 0, false); // patchify with leftover rows/cols
        assertMatches(2, 3, 8, 9, 4, 2, 2, 2, 2, 0, 0, true);      // 2x2 s2 patchify
        assertMatches(1, 2, 5, 5, 3, 3, 3, 1, 1, 3, 3, true);      // padding larger than needed: whole zero rows
        // Direct (phase-layout) path: strides, odd sizes, kernels wider than the stride, no padding.
        assertMatches(2, 3, 15, 13, 4, 3, 3, 2, 2, 1, 1, true);
        assertMatches(2, 2, 16, 17, 3, 4, 4, 2, 2, 1, 1, false);
        assertMatches(1, 3, 23, 21, 4, 7, 7, 2, 2, 3, 3, true);    // ResNet-style stem
        assertMatches(2, 2, 14, 16, 3, 3, 5, 3, 2, 2, 1, true);
        assertMatches(2, 3, 9, 10, 3, 3, 3, 1, 1, 0, 0, false);
        assertMatches(2, 3, 9, 10, 3, 3, 3, 1, 1, 2, 2, true);     // output wider than the input
        assertMatches(1, 2, 8, 9, 3, 2, 2, 1, 1, 1, 1, false);     // even kernel
        assertMatches(5, 2, 17, 17, 3, 3, 3, 1, 1, 1, 1, true);    // small maps: groups of 3 images, the last one partial
        assertMatches(7, 3, 14, 14, 5, 3, 3, 2, 2, 1, 1, false);   // 14 -> 7 stride 2, as MambaVision's last downsample
        assertMatches(3, 6, 21, 18, 5, 3, 3, 1, 1, 1, 1, true);    // Winograd F(4x4) (sides >= 16, 90 tiles), tail tiles
        assertMatches(2, 5, 10, 15, 4, 3, 3, 1, 1, 1, 1, false);   // Winograd F(2x2) (10..15)
        // More output pixels over the batch than the pixel-major path takes: the grid path for the same kinds of kernels
        assertTrue(PixelMajor.applies(ConvGeometry.of(Tensor.zeros(5, 3, 14, 14), Tensor.zeros(5, 3, 3, 3), null, 2, 2, 1, 1)));
        assertMatches(2, 3, 30, 26, 4, 3, 3, 2, 2, 1, 1, true);
        assertFalse(PixelMajor.applies(ConvGeometry.of(Tensor.zeros(2, 3, 30, 26), Tensor.zeros(4, 3, 3, 3), null, 2, 2, 1, 1)));
        assertMatches(1, 2, 40, 42, 3, 5, 5, 2, 2, 0, 0, false);
        assertMatches(2, 2, 50, 45, 3, 3, 5, 3, 2, 2, 1, true);
        assertMatches(2, 3, 20, 18, 3, 3, 3, 1, 1, 0, 0, false);
        assertMatches(3, 2, 15, 15, 3, 3, 3, 2, 2, 1, 1, true);    // pixel-major, several images
        assertMatches(1, 3, 14, 15, 4, 2, 3, 2, 1, 1, 0, false);   // pixel-major, rectangular kernel and stride
    }

    /**
     * The pixel-major path with a frozen weight (its transpose packed once) gives the bits of the same call without
     * one, activation and residual included, for one image and several.
     */
    @Test
    void frozenWeightGivesTheSameBits() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int[] s : new int[][] {{1, 16, 28, 28, 24}, {3, 6, 14, 14, 50}, {1, 40, 14, 14, 64}}) {
            Tensor x = Tensor.randn(rng, 1f, s[0], s[1], s[2], s[3]), w = Tensor.randn(rng, 0.2f, s[4], s[1], 3, 3), b = Tensor.randn(rng, 1f, s[4]);
            assertTrue(PixelMajor.applies(ConvGeometry.of(x, w, b, 2, 2, 1, 1)));
            Conv2d.FrozenWeight frozen = new Conv2d.FrozenWeight(w);
            try (var g = org.mambavision.engine.Tape.noGrad()) {
                Tensor residual = Tensor.randn(rng, 1f, s[0], s[4], s[2] / 2, s[3] / 2);
                for (int rep = 0; rep < 2; rep++) { // the second call reads the kept transpose
                    Tensor expected = Conv2d.forwardFused(x, w, b, 2, 1, Activations.Function.GELU_TANH, residual);
                    Tensor got = Conv2d.forwardFused(x, frozen, b, 2, 1, Activations.Function.GELU_TANH, residual);
                    assertArrayEquals(expected.data, got.data, java.util.Arrays.toString(s));
                }
                float[] ref = reference(x, w, b, 2, 2, 1, 1);
                Tensor plain = Conv2d.forwardFused(x, frozen, b, 2, 1, null, null);
                for (int i = 0; i < ref.length; i++) assertEquals(ref[i], plain.data[i], 1e-4f * (1 + Math.abs(ref[i])), java.util.Arrays.toString(s));
            }
        }
        // a weight that requires a gradient is not frozen
        Tensor trained = Tensor.randn(rng, 1f, 2, 2, 3, 3).requiresGrad(true);
        assertThrows(IllegalArgumentException.class, () -> new Conv2d.FrozenWeight(trained));
    }

    @Test
    void manyRowBlocksBothParallelModes() {
        // Several row blocks per image; N=1 uses the per-image mode, N > threads the per-batch mode.
        assertMatches(1, 33, 40, 37, 17, 3, 3, 1, 1, 1, 1, true);
        assertMatches(Parallel.threads() + 1, 9, 40, 29, 5, 3, 3, 1, 1, 1, 1, true);
        assertMatches(1, 70, 60, 60, 3, 3, 3, 1, 1, 1, 1, false); // k*wout large: block limited by the buffer cap
        assertTrue(Conv2d.rowsPerBlock(ConvGeometry.of(Tensor.zeros(1, 33, 40, 37), Tensor.zeros(17, 33, 3, 3), null, 1, 1, 1, 1)) < 40);
    }

    private static void gradCheck(String name, int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw, boolean bias) {
        SplittableRandom rng = new SplittableRandom(h * 100 + kh * 10 + n);
        Tensor x = Tensor.randn(rng, 1f, n, cin, h, w).name("x");
        Tensor wt = Tensor.randn(rng, 0.5f, cout, cin, kh, kw).name("w");
        if (bias) {
            Tensor b = Tensor.randn(rng, 1f, cout).name("b");
            GradCheck.check(name, () -> Conv2d.forward(x, wt, b, sh, sw, ph, pw), x, wt, b);
        } else {
            GradCheck.check(name, () -> Conv2d.forward(x, wt, null, sh, sw, ph, pw), x, wt);
        }
    }

    @Test
    void gradientsEveryPath() {
        gradCheck("Conv2d 1x1", 2, 3, 5, 6, 4, 1, 1, 1, 1, 0, 0, true);
        gradCheck("Conv2d 1x1 single image", 1, 3, 5, 7, 4, 1, 1, 1, 1, 0, 0, false);
        gradCheck("Conv2d 3x3 s1 p1", 2, 3, 7, 6, 5, 3, 3, 1, 1, 1, 1, true);
        gradCheck("Conv2d 3x3 s1 p1 single image", 1, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1, true);
        gradCheck("Conv2d 3x3 s2 p1", 2, 3, 9, 7, 3, 3, 3, 2, 2, 1, 1, true);
        gradCheck("Conv2d 3x3 s2 p1 single image", 1, 2, 8, 9, 3, 3, 3, 2, 2, 1, 1, false);
        gradCheck("Conv2d 5x5 p2", 2, 2, 7, 6, 3, 5, 5, 1, 1, 2, 2, true);
        gradCheck("Conv2d 2x3 rect", 2, 3, 7, 8, 3, 2, 3, 2, 1, 1, 0, true);
        gradCheck("Conv2d 16x16 s16", 2, 2, 32, 33, 3, 16, 16, 16, 16, 0, 0, true);
        gradCheck("Conv2d 2x2 s2 patches", 2, 3, 7, 6, 4, 2, 2, 2, 2, 0, 0, false);
        gradCheck("Conv2d 4x4 s2 p1", 2, 2, 8, 9, 3, 4, 4, 2, 2, 1, 1, true);
        gradCheck("Conv2d 3x5 s3x2 p2x1", 2, 2, 10, 9, 3, 3, 5, 3, 2, 2, 1, false);
        gradCheck("Conv2d 3x3 s1 p0", 2, 2, 7, 8, 3, 3, 3, 1, 1, 0, 0, false);
        gradCheck("Conv2d 3x3 s1 p2", 1, 2, 6, 5, 3, 3, 3, 1, 1, 2, 2, true);
        gradCheck("Conv2d 3x3 image groups", 5, 2, 17, 17, 2, 3, 3, 1, 1, 1, 1, true);
        gradCheck("Conv2d 3x3 Winograd F(4x4)", 4, 2, 16, 17, 3, 3, 3, 1, 1, 1, 1, true); // 80 tiles of 4x4
        gradCheck("Conv2d 3x3 Winograd F(2x2)", 3, 2, 11, 13, 3, 3, 3, 1, 1, 1, 1, false);
        gradCheck("Conv2d 3x3 many blocks", Parallel.threads() + 1, 2, 30, 5, 3, 3, 3, 1, 1, 1, 1, true);
    }

    @Test
    void backwardAccumulatesIntoExistingGradient() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 6, 5).requiresGrad(true);
        Tensor w = Tensor.randn(rng, 1f, 4, 3, 3, 3).requiresGrad(true);
        Tensor y = Conv2d.forward(x, w, null, 1, 1);
        float[] up = Tensor.randn(rng, 1f, y.shape()).data;
        Tape.backward(y, up);
        float[] gx1 = x.grad.clone(), gw1 = w.grad.clone();
        Tensor y2 = Conv2d.forward(x, w, null, 1, 1);
        Tape.backward(y2, up);
        for (int i = 0; i < gx1.length; i++) assertEquals(2 * gx1[i], x.grad[i], 1e-5f * (1 + Math.abs(gx1[i])));
        for (int i = 0; i < gw1.length; i++) assertEquals(2 * gw1[i], w.grad[i], 1e-5f * (1 + Math.abs(gw1[i])));
    }

    @Test
    void deterministic() {
        SplittableRandom rng = new SplittableRandom(5);
        Tensor x = Tensor.randn(rng, 1f, 3, 6, 20, 19).requiresGrad(true);
        Tensor w = Tensor.randn(rng, 1f, 5, 6, 3, 3).requiresGrad(true);
        float[][] first = null;
        for (int rep = 0; rep < 2; rep++) {
            x.grad = null;
            w.grad = null;
            Tensor y = Conv2d.forward(x, w, null, 1, 1);
            Tape.backward(y, y.data.clone());
            float[][] now = {y.data, x.grad, w.grad};
            if (first != null) for (int i = 0; i < 3; i++) assertArrayEquals(first[i], now[i]);
            first = now;
        }
    }

    @Test
    void emptyBatch() {
        Tensor y = Conv2d.forward(Tensor.zeros(0, 3, 8, 8), Tensor.zeros(4, 3, 3, 3), Tensor.zeros(4), 1, 1);
        assertArrayEquals(new int[] {0, 4, 8, 8}, y.shape());
    }

    @Test
    void shapeErrorsNameOpAndShapes() {
        Tensor x = Tensor.zeros(1, 3, 8, 8);
        var e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, Tensor.zeros(4, 2, 3, 3), null, 1, 1));
        assertTrue(e.getMessage().contains("Conv2d") && e.getMessage().contains("[1, 3, 8, 8]") && e.getMessage().contains("[4, 2, 3, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, Tensor.zeros(4, 3, 3, 3), Tensor.zeros(5), 1, 1));
        assertTrue(e.getMessage().contains("Conv2d") && e.getMessage().contains("[5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, Tensor.zeros(4, 3, 11, 11), null, 1, 1));
        assertTrue(e.getMessage().contains("Conv2d") && e.getMessage().contains("[4, 3, 11, 11]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, Tensor.zeros(4, 3, 3, 3), null, 0, 1));
    }
}
