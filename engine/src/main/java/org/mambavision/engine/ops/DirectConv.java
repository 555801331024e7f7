package org.mambavision.engine.ops;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.kernels.VecMath;

/**
 * Convolution without an im2col matrix (the 3x3 convolutions of MambaVision's conv stages).
 *
 * <p>The input of one image is copied once into stride phases: phase (a, b) of channel ci holds the
 * zero-padded input at rows sh*r + a and columns sw*c + b, in rows of a common width {@code wg}. On that
 * grid an output pixel (y, x) sits at p = y*wg + x, and the tap (ci, ky, kx) reads phase
 * (ky % sh, kx % sw) of ci at p + (ky / sh)*wg + kx / sw: every im2col row is a shifted view of the
 * phases. One GEMM per image with those gathered rows ({@link Gemm#sgemmGatheredB}) computes the output
 * on the grid; its {@code wg - wout} extra columns per row are dropped when the result is copied out.
 * Small output maps are done several images per GEMM (their grids side by side), so that the GEMM is wide.
 * The grid is as narrow as the reads allow: a tap reading past a row's end lands on the next row's
 * leading zeros, which is the right padding it should see (stride 1, padding 1: wg = w + 1).
 * The GEMM's packing reads the phases (about the input's size, cache resident) instead of an im2col
 * matrix nine times that.
 *
 * <p>Backward: the weight gradient multiplies the output gradient, laid out on the grid, with the same
 * gathered rows. The input gradient of a stride-1 convolution is itself such a convolution: of the output
 * gradient, with the kernel flipped and its channel axes swapped, padded by kernel - 1 - padding.
 */
final class DirectConv {
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private DirectConv() {}

    /** Whether this path handles the geometry: a kernel larger than 1x1 and padding below the kernel size. */
    static boolean applies(ConvGeometry g) {
        return g.ph() < g.kh() && g.pw() < g.kw() && g.kh() * g.kw() > 1;
    }

    /** Aim for GEMMs at least this wide: small output maps are multiplied several images at a time. */
    private static final int TARGET_COLS = 1024;

    /**
     * The phase layout of one geometry: grid width {@code wg}, rows per phase {@code hg}, floats per image
     * {@code slot}, and {@code group} images side by side: block (ci, a, b) holds phase (a, b) of channel ci
     * for each image of the group, one slot after the other, so that the images' grids are consecutive
     * column ranges of one GEMM. A slot ends with zeros that the last row's right taps may read.
     */
    private record Layout(int wg, int hg, int slot, int group, int tail) {
        static Layout of(ConvGeometry g) {
            int sw = g.sw(), maxOff = (g.kw() - 1) / sw;
            int wg = g.wout();
            for (int b = 0; b < sw; b++) wg = Math.max(wg, Math.floorDiv(g.pw() + g.w() - 1 - b, sw) + 1);
            while (!fits(g, wg)) wg++;
            int hg = g.hout() + (g.kh() - 1) / g.sh(), slot = hg * wg + maxOff + 1;
            int group = g.hout() * wg >= TARGET_COLS / 2 ? 1 : Math.max(1, Math.min(g.n(), Math.ceilDiv(TARGET_COLS, slot)));
            // columns past a slot's last grid row read up to one tap offset further, into the next slot or past the last block
            return new Layout(wg, hg, slot, group, ((g.kh() - 1) / g.sh()) * wg + maxOff + 1);
        }

        /** Whether every read past a row's end (valid outputs only) lands on a leading zero of the next row. */
        private static boolean fits(ConvGeometry g, int wg) {
            for (int kx = 0; kx < g.kw(); kx++) {
                int b = kx % g.sw(), last = g.wout() - 1 + kx / g.sw();
                int leadingZeros = Math.max(0, Math.ceilDiv(g.pw() - b, g.sw()));
                if (last >= wg && last - wg >= leadingZeros) return false;
            }
            return true;
        }

        int block() {
            return group * slot;
        }

        int groups(ConvGeometry g) {
            return Math.ceilDiv(g.n(), group);
        }

        /** Images in group q. */
        int count(ConvGeometry g, int q) {
            return Math.min(group, g.n() - q * group);
        }

        int floats(ConvGeometry g) {
            return g.cin() * g.sh() * g.sw() * block() + tail;
        }

        /** GEMM columns of a group of {@code count} images. */
        int cols(int count) {
            return count * slot;
        }

        /** Offsets of the im2col rows (ci, ky, kx), in the weight's order, within the phases. */
        int[] rowOffsets(ConvGeometry g) {
            int sh = g.sh(), sw = g.sw();
            int[] rows = new int[g.k()];
            int r = 0;
            for (int ci = 0; ci < g.cin(); ci++) {
                for (int ky = 0; ky < g.kh(); ky++) {
                    for (int kx = 0; kx < g.kw(); kx++) {
                        rows[r++] = ((ci * sh + ky % sh) * sw + kx % sw) * block() + (ky / sh) * wg + kx / sw;
                    }
                }
            }
            return rows;
        }

        /**
         * Copies images [n0, n0 + count) into their slots, in parallel over channels unless inside a task.
         * Unused slots and the tail are zeroed: every float a GEMM may read is finite (the weight gradient
         * multiplies the extra columns by zero, and 0 * NaN would not be zero).
         */
        void fill(ConvGeometry g, float[] x, int n0, int count, float[] xp) {
            Parallel.forRange(g.cin(), 8, (c0, c1) -> fill(g, x, n0, count, xp, c0, c1));
            Arrays.fill(xp, floats(g) - tail, floats(g), 0f);
        }

        private void fill(ConvGeometry g, float[] x, int n0, int count, float[] xp, int ci0, int ci1) {
            int sh = g.sh(), sw = g.sw(), h = g.h(), w = g.w();
            for (int ci = ci0; ci < ci1; ci++) {
                for (int a = 0; a < sh; a++) {
                    for (int b = 0; b < sw; b++) {
                        int blockBase = ((ci * sh + a) * sw + b) * block();
                        Arrays.fill(xp, blockBase + count * slot, blockBase + block(), 0f);
                        // Columns c with input column sw*c + b - pw in [0, w): [c0, c1).
                        int c0 = Math.min(wg, Math.max(0, Math.ceilDiv(g.pw() - b, sw)));
                        int c1 = Math.max(c0, Math.min(wg, Math.floorDiv(w - 1 + g.pw() - b, sw) + 1));
                        for (int i = 0; i < count; i++) {
                            int base = blockBase + i * slot, src = ((n0 + i) * g.cin() + ci) * g.inPlane();
                            for (int r = 0; r < hg; r++) {
                                int row = base + r * wg, iy = sh * r + a - g.ph();
                                if (iy < 0 || iy >= h || c0 == c1) {
                                    Arrays.fill(xp, row, row + wg, 0f);
                                    continue;
                                }
                                Arrays.fill(xp, row, row + c0, 0f);
                                int s = src + iy * w + sw * c0 + b - g.pw();
                                if (sw == 1) {
                                    System.arraycopy(x, s, xp, row + c0, c1 - c0);
                                } else if (sw == 2) {
                                    VecMath.copyStride2(c1 - c0, x, s, xp, row + c0);
                                } else {
                                    for (int c = c0; c < c1; c++, s += sw) xp[row + c] = x[s];
                                }
                                Arrays.fill(xp, row + c1, row + wg, 0f);
                            }
                            Arrays.fill(xp, base + hg * wg, base + slot, 0f);
                        }
                    }
                }
            }
        }
    }

    private static float[] scratch(int which, int size) {
        float[][] holder = SCRATCH.get();
        if (holder[which].length < size) holder[which] = new float[size];
        return holder[which];
    }

    /** Runs the groups as tasks when they balance the threads; otherwise in order, each GEMM using the threads. */
    static void forGroups(int groups, IntConsumer body) {
        int threads = Parallel.threads();
        if (groups >= 4 * threads || groups % threads == 0) Parallel.forEach(groups, body);
        else for (int q = 0; q < groups; q++) body.accept(q);
    }

    /** out (n, cout, hout, wout) = conv(x, w) + bias, or += when {@code accumulate}. */
    static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out, boolean accumulate) {
        forward(g, x, w, bias, out, accumulate, null, null);
    }

    /**
     * out = act(conv(x, w) + bias) + residual (act, residual may be null; not with accumulate): both applied
     * in the copy out of the grid, a channel at a time while it is in cache, instead of passes of their own.
     */
    static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out, boolean accumulate,
                        Activations.Function act, float[] residual) {
        Layout lay = Layout.of(g);
        int[] rows = lay.rowOffsets(g);
        int wg = lay.wg(), k = g.k(), cout = g.cout(), hout = g.hout(), wout = g.wout(), plane = g.outPlane();
        Gemm.Bias bv = bias == null ? null : new Gemm.Bias(bias, 0, true);
        forGroups(lay.groups(g), q -> {
            int n0 = q * lay.group(), count = lay.count(g, q), cols = lay.cols(count);
            float[] xp = scratch(0, lay.floats(g)), t = scratch(1, cout * cols);
            lay.fill(g, x, n0, count, xp);
            Gemm.sgemmGatheredB(false, false, cout, cols, k, w, 0, k, xp, rows, 0f, bv, t, 0, cols);
            Parallel.forRange(cout, 8, (c0, c1) -> {
                for (int co = c0; co < c1; co++) {
                    if (act != null) act.applyInPlace(t, co * cols, (co + 1) * cols); // the grid's extra columns too: finite
                    for (int i = 0; i < count; i++) {
                        for (int y = 0; y < hout; y++) {
                            int src = co * cols + i * lay.slot() + y * wg, dst = ((n0 + i) * cout + co) * plane + y * wout;
                            if (accumulate) VecMath.addInto(wout, t, src, out, dst);
                            else if (residual != null) VecMath.add(wout, t, src, residual, dst, out, dst);
                            else System.arraycopy(t, src, out, dst, wout);
                        }
                    }
                }
            });
        });
    }

    /**
     * gw += dL/dw: per group of images, the output gradient laid out on the grid (zeros in the extra
     * columns) times the transposed gathered rows; groups are summed per thread, the threads' sums in order.
     */
    static void weightGrad(ConvGeometry g, float[] x, float[] gout, float[] gw) {
        Layout lay = Layout.of(g);
        int[] rows = lay.rowOffsets(g);
        int wg = lay.wg(), k = g.k(), cout = g.cout(), hout = g.hout(), wout = g.wout(), plane = g.outPlane();
        int groups = lay.groups(g), chunks = Math.min(Parallel.threads(), groups);
        float[][] partial = new float[chunks][];
        Parallel.forEach(chunks, chunk -> {
            float[] acc = new float[cout * k];
            int q0 = (int) ((long) groups * chunk / chunks), q1 = (int) ((long) groups * (chunk + 1) / chunks);
            for (int q = q0; q < q1; q++) {
                int n0 = q * lay.group(), count = lay.count(g, q), cols = lay.cols(count);
                float[] xp = scratch(0, lay.floats(g)), gg = scratch(1, cout * cols);
                lay.fill(g, x, n0, count, xp);
                for (int co = 0; co < cout; co++) {
                    for (int i = 0; i < count; i++) {
                        int base = co * cols + i * lay.slot();
                        for (int y = 0; y < hout; y++) {
                            int row = base + y * wg;
                            System.arraycopy(gout, ((n0 + i) * cout + co) * plane + y * wout, gg, row, wout);
                            Arrays.fill(gg, row + wout, row + wg, 0f); // the grid's extra columns
                        }
                        Arrays.fill(gg, base + hout * wg, base + lay.slot(), 0f); // the slot's rows past the output
                    }
                }
                Gemm.sgemmGatheredB(false, true, cout, k, cols, gg, 0, cols, xp, rows, 1f, null, acc, 0, k);
            }
            partial[chunk] = acc;
        });
        for (float[] acc : partial) VecMath.addInto(acc.length, acc, 0, gw, 0);
    }

    /** Whether {@link #inputGrad} handles the geometry: stride 1 (other strides use im2col's col2im). */
    static boolean hasInputGrad(ConvGeometry g) {
        return applies(g) && g.sh() == 1 && g.sw() == 1;
    }

    /** gx += dL/dx for gout = dL/d(conv(x, w)): the stride-1 convolution of gout with the flipped, transposed kernel. */
    static void inputGrad(ConvGeometry g, float[] w, float[] gout, float[] gx) {
        int kh = g.kh(), kw = g.kw(), kk = kh * kw, cin = g.cin(), cout = g.cout();
        float[] flipped = BufferPool.temporary(cin * cout * kk);
        for (int co = 0; co < cout; co++) {
            for (int ci = 0; ci < cin; ci++) {
                int src = (co * cin + ci) * kk, dst = (ci * cout + co) * kk;
                for (int i = 0; i < kk; i++) flipped[dst + kk - 1 - i] = w[src + i];
            }
        }
        ConvGeometry back = new ConvGeometry(g.n(), cout, g.hout(), g.wout(), cin, kh, kw, 1, 1,
                kh - 1 - g.ph(), kw - 1 - g.pw(), g.h(), g.w());
        if (Winograd.applies(back)) Winograd.forward(back, gout, flipped, null, gx, true, null, null);
        else forward(back, gout, flipped, null, gx, true);
        BufferPool.release(flipped);
    }
}
