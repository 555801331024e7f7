package org.mambavision.engine.ops;

import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.kernels.Gemm;

/**
 * The forward of a convolution with few output pixels over the whole batch (MambaVision's last strided 3x3
 * downsampling of one image, to 7x7): one product Y^T (pixels x Cout) = im2col^T (pixels x k) W^T (k x Cout),
 * then a transposing copy into NCHW. The channels-first product that the other paths run has the pixels as its
 * columns, and 49 or 196 columns fill the GEMM's 48-column panels poorly (MambaVision-T's last downsampling of
 * one image ran at 80-90 GFLOP/s that way); here the output channels are the columns and the weight is the
 * product's B operand, which a model frozen for inference packs once ({@link Conv2d.FrozenWeight}).
 * The activation is applied to each finished part of the product, the residual added in the copy.
 */
final class PixelMajor {
    /**
     * Largest batch x output pixels taken here; above it the grid or Winograd paths run. One image's 3x3 stride-2
     * convolution, best of 60 (ms, grid / pixel-major): 320 channels 14x14 -> 7x7 x 640, 1.78 / 1.16;
     * 160 28x28 -> 14x14 x 320, 1.22 / 1.27; 80 56x56 -> 28x28 x 160, 1.05 / 1.51.
     */
    static final int MAX_PIXELS = 256;

    private PixelMajor() {}

    /** Whether this path handles the geometry: a kernel larger than 1x1, padding below it, not Winograd's, few pixels. */
    static boolean applies(ConvGeometry g) {
        return !g.isPatchify() && DirectConv.applies(g) && !Winograd.applies(g) && (long) g.n() * g.outPlane() <= MAX_PIXELS;
    }

    /** out = act(conv(x, w) + bias) + residual (act, residual, bias and frozen may be null). */
    static void forward(ConvGeometry g, float[] x, float[] w, Conv2d.FrozenWeight frozen, float[] bias, float[] out,
                        Activations.Function act, float[] residual) {
        int n = g.n(), k = g.k(), cout = g.cout(), plane = g.outPlane(), pixels = n * plane, cin = g.cin();
        float[] col = BufferPool.temporary(k * pixels), yt = BufferPool.temporary(pixels * cout);
        // im2col of every image side by side: rows of k, each `pixels` long (image i at columns i * plane ..)
        for (int i = 0; i < n; i++) {
            int xOff = i * cin * g.inPlane(), colOff = i * plane;
            Parallel.forRange(cin, 8, (c0, c1) -> Im2col.im2col(g, x, xOff, 0, g.hout(), col, colOff, pixels, c0, c1));
        }
        Gemm.Bias bv = bias == null ? null : new Gemm.Bias(bias, 0, false);
        Gemm.Epilogue epilogue = act == null ? null : (C, off, ldc, rows, cols) -> {
            for (int r = 0; r < rows; r++) act.applyInPlace(C, off + r * ldc, off + r * ldc + cols);
        };
        if (frozen != null) Gemm.sgemmPackedB(true, pixels, col, 0, pixels, frozen.transposed(), bv, yt, 0, cout, epilogue);
        else Gemm.sgemmBias(true, true, pixels, cout, k, col, 0, pixels, w, 0, k, bv, yt, 0, cout, epilogue);
        // yt (pixels x cout) -> out (n, cout, plane), residual added
        Parallel.forRange(cout, 16, (c0, c1) -> {
            for (int i = 0; i < n; i++) {
                for (int co = c0; co < c1; co++) {
                    int dst = (i * cout + co) * plane, src = i * plane * cout + co;
                    if (residual == null) {
                        for (int p = 0; p < plane; p++) out[dst + p] = yt[src + p * cout];
                    } else {
                        for (int p = 0; p < plane; p++) out[dst + p] = residual[dst + p] + yt[src + p * cout];
                    }
                }
            }
        });
        BufferPool.release(yt);
        BufferPool.release(col);
    }
}
