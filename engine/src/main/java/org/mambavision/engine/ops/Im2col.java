package org.mambavision.engine.ops;

import java.util.Arrays;

/**
 * Layout kernels for convolution as GEMM.
 *
 * <p>The im2col matrix of one image, restricted to output rows [oy0, oy1), has {@code k = cin*kh*kw}
 * rows (ci, ky, kx) and {@code (oy1-oy0)*wout} columns (oy, ox). For every (row, oy) the range of ox
 * whose input column lies inside the image is computed once, so the interior is a plain copy
 * (System.arraycopy for stride 1) with no per-element bounds checks; only the padding is zero-filled.
 * This covers 3x3 stride 1 and stride 2 and every other kernel the same way.
 */
final class Im2col {
    private Im2col() {}

    /** First ox whose input column ox*sw - pw + kx is >= 0. */
    private static int oxLow(ConvGeometry g, int kx) {
        return Math.max(0, Math.ceilDiv(g.pw() - kx, g.sw()));
    }

    /** One past the last ox whose input column is < w. */
    private static int oxHigh(ConvGeometry g, int kx) {
        return Math.min(g.wout(), Math.floorDiv(g.w() - 1 + g.pw() - kx, g.sw()) + 1);
    }

    /** Writes the im2col block of the image at {@code x[xOff..]} for output rows [oy0, oy1) into {@code col}. */
    static void im2col(ConvGeometry g, float[] x, int xOff, int oy0, int oy1, float[] col) {
        im2col(g, x, xOff, oy0, oy1, col, 0, (oy1 - oy0) * g.wout(), 0, g.cin());
    }

    /**
     * The rows of input channels [ci0, ci1) of that block (rows ci*kh*kw ..), the others untouched, row r at
     * col[colOff + r * ld ..] (several images' blocks side by side in one matrix).
     */
    static void im2col(ConvGeometry g, float[] x, int xOff, int oy0, int oy1, float[] col, int colOff, int ld, int ci0, int ci1) {
        int wout = g.wout(), sw = g.sw();
        int row = ci0 * g.kh() * g.kw();
        for (int ci = ci0; ci < ci1; ci++) {
            int plane = xOff + ci * g.inPlane();
            for (int ky = 0; ky < g.kh(); ky++) {
                for (int kx = 0; kx < g.kw(); kx++, row++) {
                    int lo = oxLow(g, kx), hi = oxHigh(g, kx);
                    for (int oy = oy0; oy < oy1; oy++) {
                        int dst = colOff + row * ld + (oy - oy0) * wout;
                        int iy = oy * g.sh() - g.ph() + ky;
                        if (iy < 0 || iy >= g.h() || lo >= hi) {
                            Arrays.fill(col, dst, dst + wout, 0f);
                            continue;
                        }
                        if (lo > 0) Arrays.fill(col, dst, dst + lo, 0f);
                        int src = plane + iy * g.w() + lo * sw - g.pw() + kx;
                        if (sw == 1) {
                            System.arraycopy(x, src, col, dst + lo, hi - lo);
                        } else {
                            for (int ox = lo; ox < hi; ox++, src += sw) col[dst + ox] = x[src];
                        }
                        if (hi < wout) Arrays.fill(col, dst + hi, dst + wout, 0f);
                    }
                }
            }
        }
    }

    /**
     * Adds the im2col-shaped gradient {@code col} (rows of input channels [ci0, ci1), output rows
     * [oy0, oy1)) back into the image gradient at {@code gx[xOff..]}. Rows of other channels are
     * not touched, so disjoint channel ranges may run in parallel.
     */
    static void col2imAdd(ConvGeometry g, float[] col, int oy0, int oy1, int ci0, int ci1, float[] gx, int xOff) {
        int wout = g.wout(), cols = (oy1 - oy0) * wout, sw = g.sw(), kk = g.kh() * g.kw();
        for (int ci = ci0; ci < ci1; ci++) {
            int plane = xOff + ci * g.inPlane();
            int row = ci * kk;
            for (int ky = 0; ky < g.kh(); ky++) {
                for (int kx = 0; kx < g.kw(); kx++, row++) {
                    int lo = oxLow(g, kx), hi = oxHigh(g, kx);
                    if (lo >= hi) continue;
                    for (int oy = oy0; oy < oy1; oy++) {
                        int iy = oy * g.sh() - g.ph() + ky;
                        if (iy < 0 || iy >= g.h()) continue;
                        int src = row * cols + (oy - oy0) * wout;
                        int dst = plane + iy * g.w() + lo * sw - g.pw() + kx;
                        if (sw == 1) {
                            for (int ox = lo; ox < hi; ox++, dst++) gx[dst] += col[src + ox];
                        } else {
                            for (int ox = lo; ox < hi; ox++, dst += sw) gx[dst] += col[src + ox];
                        }
                    }
                }
            }
        }
    }

    /**
     * Patch matrix of non-overlapping kh x kw patches for images [n0, n1): row (n*L + oy*wout + ox),
     * column (ci*kh*kw + ky*kw + kx), with L = hout*wout. Input rows/columns past the last whole patch are ignored.
     */
    static void patches(ConvGeometry g, float[] x, int n0, int n1, float[] p) {
        int kh = g.kh(), kw = g.kw(), k = g.k(), wout = g.wout(), plane = g.outPlane();
        for (int n = n0; n < n1; n++) {
            for (int oy = 0; oy < g.hout(); oy++) {
                int prow = (n * plane + oy * wout) * k;
                for (int ci = 0; ci < g.cin(); ci++) {
                    for (int ky = 0; ky < kh; ky++) {
                        int src = ((n * g.cin() + ci) * g.h() + oy * kh + ky) * g.w();
                        int dst = prow + (ci * kh + ky) * kw;
                        for (int ox = 0; ox < wout; ox++) System.arraycopy(x, src + ox * kw, p, dst + ox * k, kw);
                    }
                }
            }
        }
    }

    /** The adjoint of {@link #patches}: adds the patch-matrix gradient back into {@code gx} for images [n0, n1). */
    static void patchesAdd(ConvGeometry g, float[] p, int n0, int n1, float[] gx) {
        int kh = g.kh(), kw = g.kw(), k = g.k(), wout = g.wout(), plane = g.outPlane();
        for (int n = n0; n < n1; n++) {
            for (int oy = 0; oy < g.hout(); oy++) {
                int prow = (n * plane + oy * wout) * k;
                for (int ci = 0; ci < g.cin(); ci++) {
                    for (int ky = 0; ky < kh; ky++) {
                        int dst = ((n * g.cin() + ci) * g.h() + oy * kh + ky) * g.w();
                        int src = prow + (ci * kh + ky) * kw;
                        for (int ox = 0; ox < wout; ox++) {
                            int d = dst + ox * kw, s = src + ox * k;
                            for (int kx = 0; kx < kw; kx++) gx[d + kx] += p[s + kx];
                        }
                    }
                }
            }
        }
    }
}
