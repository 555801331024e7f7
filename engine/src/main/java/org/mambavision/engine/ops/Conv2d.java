package org.mambavision.engine.ops;

import org.mambavision.engine.BufferPool;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.kernels.VecMath;

/**
 * 2-D convolution on NCHW tensors with zero padding: weight (Cout, Cin, kh, kw), optional bias (Cout);
 * output size floor((H + 2p - kh) / s) + 1.
 *
 * <p>Paths, by geometry:
 * <ul>
 *   <li>Small output maps of a batch (a strided 3x3 downsampling of one image), see {@link PixelMajor}:
 *       one product with the pixels as rows and the output channels as columns.</li>
 *   <li>3x3, stride 1, padding 1 on maps of 10 or more per side (MambaVision's conv blocks): Winograd F(4x4, 3x3)
 *       or F(2x2, 3x3), see {@link Winograd};
 *       forward, input gradient (itself such a convolution) and weight gradient.</li>
 *   <li>Kernels larger than 1x1 with padding below the kernel size (the 3x3 convolutions of the models):
 *       no im2col matrix, see {@link DirectConv}; forward and weight gradient for any stride, the input
 *       gradient there for stride 1.</li>
 *   <li>Non-overlapping patches (kernel == stride, no padding, e.g. 16x16 stride 16): the input is
 *       permuted into a patch matrix and one GEMM runs for the batch.</li>
 *   <li>Everything else, and the input gradient of strided kernels: the output of each image is cut into
 *       blocks of whole output rows; a task builds the im2col block (k x cols, in a reusable per-thread
 *       buffer) and multiplies it with the weight (Cout x k) straight into the output; 1x1 stride 1 uses
 *       the input itself as the im2col matrix. Backward: weight by GEMMs against the im2col blocks, reduced
 *       over per-task partials in task order; input by GEMM into an im2col-shaped gradient and col2im.</li>
 * </ul>
 * The bias gradient is a per-channel sum.
 * Everything is deterministic for a fixed thread count.
 */
public final class Conv2d {
    /** Aim for this many output pixels per GEMM block (long enough rows for the GEMM's packing). */
    private static final int TARGET_COLS = 512;
    /** Do not split blocks below this many pixels just to create more tasks. */
    private static final int MIN_COLS = 64;
    /** Cap on the im2col block in floats (2 MiB), so per-thread buffers stay small. */
    private static final int MAX_BLOCK_FLOATS = 1 << 19;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private Conv2d() {}

    public static Tensor forward(Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return forward(x, w, b, stride, stride, padding, padding);
    }

    public static Tensor forward(Tensor x, Tensor w, Tensor b, int strideH, int strideW, int padH, int padW) {
        ConvGeometry g = ConvGeometry.of(x, w, b, strideH, strideW, padH, padW);
        Tensor out = Tensor.empty(g.n(), g.cout(), g.hout(), g.wout());
        float[] bias = b == null ? null : b.data;
        if (g.isPatchify()) patchifyForward(g, x.data, w.data, bias, out.data);
        else if (PixelMajor.applies(g)) PixelMajor.forward(g, x.data, w.data, null, bias, out.data, null, null);
        else if (Winograd.applies(g)) Winograd.forward(g, x.data, w.data, bias, out.data, false, null, null);
        else if (DirectConv.applies(g)) DirectConv.forward(g, x.data, w.data, bias, out.data, false);
        else blockedForward(g, x.data, w.data, bias, out.data);
        OpTrace tr = OpTrace.active();
        if (tr != null) {
            tr.op(out, "Conv", x, w, b, OpTrace.Attr.ints("kernel_shape", g.kh(), g.kw()), OpTrace.Attr.ints("strides", g.sh(), g.sw()),
                    OpTrace.Attr.ints("pads", g.ph(), g.pw(), g.ph(), g.pw()));
        }
        Tape.record(out, () -> {
            float[] gout = out.grad;
            if (b != null && b.requiresGrad()) biasGrad(g, gout, b.gradBuffer());
            if (g.isPatchify()) {
                patchifyBackward(g, x, w, gout);
            } else {
                if (w.requiresGrad()) {
                    if (Winograd.applies(g)) Winograd.weightGrad(g, x.data, gout, w.gradBuffer());
                    else if (DirectConv.applies(g)) DirectConv.weightGrad(g, x.data, gout, w.gradBuffer());
                    else blockedWeightGrad(g, x.data, gout, w.gradBuffer());
                }
                if (x.requiresGrad()) {
                    if (DirectConv.hasInputGrad(g)) DirectConv.inputGrad(g, w.data, gout, x.gradBuffer());
                    else blockedInputGrad(g, w.data, gout, x.gradBuffer());
                }
            }
        }, x, w, b);
        return out;
    }

    /**
     * act(conv(x, w) + b) + residual, act and residual optional (residual shaped like the output). Without a
     * tape both are applied as the convolution's output is copied out of its work buffer (the 3x3 path), not
     * in passes of their own; with one, the ops compose as usual. The same bits either way.
     */
    public static Tensor forwardFused(Tensor x, Tensor w, Tensor b, int stride, int padding, Activations.Function act, Tensor residual) {
        return forwardFused(x, w, null, b, stride, padding, act, residual);
    }

    /**
     * A convolution weight that no longer changes (a model frozen for inference, its BatchNorm folded in): what the
     * convolution derives from it at every call, the Winograd-transformed kernels or the packed transpose, is computed
     * once and kept.
     * The same bits as deriving it again. The caller owns freshness: a FrozenWeight does not see later writes.
     */
    public static final class FrozenWeight {
        public final Tensor weight;
        private final java.util.concurrent.ConcurrentHashMap<Winograd.Transform, float[]> winograd = new java.util.concurrent.ConcurrentHashMap<>();

        public FrozenWeight(Tensor weight) {
            if (weight.requiresGrad()) throw new IllegalArgumentException("Conv2d.FrozenWeight: the weight requires a gradient");
            this.weight = weight;
        }

        private volatile Gemm.PackedB transposed;

        float[] winograd(Winograd.Transform f, java.util.function.Supplier<float[]> transform) {
            float[] u = winograd.get(f);
            if (u != null) return u;
            // computed outside the map's lock: the transform runs parallel tasks; two callers at once both compute it
            u = transform.get();
            float[] kept = winograd.putIfAbsent(f, u);
            return kept != null ? kept : u;
        }

        /** W^T (k x cout) packed as a GEMM's B operand, W viewed as (cout, k). */
        Gemm.PackedB transposed() {
            Gemm.PackedB p = transposed;
            if (p == null) {
                int cout = weight.dim(0), k = weight.numel() / cout;
                transposed = p = Gemm.packB(true, cout, k, weight.data, 0, k);
            }
            return p;
        }
    }

    /** {@link #forwardFused(Tensor, Tensor, Tensor, int, int, Activations.Function, Tensor)} with a frozen weight. */
    public static Tensor forwardFused(Tensor x, FrozenWeight w, Tensor b, int stride, int padding, Activations.Function act, Tensor residual) {
        return forwardFused(x, w.weight, w, b, stride, padding, act, residual);
    }

    private static Tensor forwardFused(Tensor x, Tensor w, FrozenWeight frozen, Tensor b, int stride, int padding,
                                       Activations.Function act, Tensor residual) {
        if (Tape.needsGrad(x, w, b, residual) || OpTrace.active() != null) { // a trace records the ops one by one
            Tensor y = forward(x, w, b, stride, padding);
            if (act != null) y = act.apply(y);
            return residual == null ? y : Arith.add(residual, y);
        }
        ConvGeometry g = ConvGeometry.of(x, w, b, stride, stride, padding, padding);
        if (residual != null && !java.util.Arrays.equals(residual.shape(), new int[] {g.n(), g.cout(), g.hout(), g.wout()})) {
            throw new IllegalArgumentException("Conv2d: residual " + residual.shapeString() + " does not match the output ("
                    + g.n() + ", " + g.cout() + ", " + g.hout() + ", " + g.wout() + ")");
        }
        if (PixelMajor.applies(g)) {
            Tensor out = Tensor.empty(g.n(), g.cout(), g.hout(), g.wout());
            PixelMajor.forward(g, x.data, w.data, frozen, b == null ? null : b.data, out.data, act, residual == null ? null : residual.data);
            return out;
        }
        if (!DirectConv.applies(g)) { // (Winograd geometries are a subset of these)
            Tensor y = forward(x, w, b, stride, padding);
            if (act != null) act.applyInPlace(y.data, 0, y.numel());
            if (residual != null) VecMath.addInto(y.numel(), residual.data, 0, y.data, 0);
            return y;
        }
        Tensor out = Tensor.empty(g.n(), g.cout(), g.hout(), g.wout());
        float[] bias = b == null ? null : b.data, res = residual == null ? null : residual.data;
        Winograd.Transform f = Winograd.transformFor(g);
        if (f != null) Winograd.forward(g, x.data, w.data, frozen, bias, out.data, false, act, res, f);
        else DirectConv.forward(g, x.data, w.data, bias, out.data, false, act, res);
        return out;
    }

    // ---- blocking --------------------------------------------------------------------------

    /** Output rows per block: about TARGET_COLS pixels, at least ~2 tasks per thread over the batch. */
    static int rowsPerBlock(ConvGeometry g) {
        int wout = g.wout(), hout = g.hout();
        int rows = Math.ceilDiv(TARGET_COLS, wout);
        int wantBlocks = Math.ceilDiv(2 * Parallel.threads(), Math.max(1, g.n()));
        if (Math.ceilDiv(hout, rows) < wantBlocks) rows = Math.max(Math.ceilDiv(MIN_COLS, wout), Math.ceilDiv(hout, wantBlocks));
        if (!g.isPointwise()) rows = Math.min(rows, Math.max(1, MAX_BLOCK_FLOATS / Math.max(1, g.k() * wout)));
        rows = Math.max(1, Math.min(rows, hout));
        int blocks = Math.ceilDiv(hout, rows);
        return Math.ceilDiv(hout, blocks); // same block count, rows spread evenly
    }

    private static float[] scratch(int size) {
        float[][] holder = SCRATCH.get();
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }

    /** Where a block's im2col matrix lives: an array, an offset and a row stride. */
    private record ColBlock(float[] data, int offset, int ld) {}

    /** The im2col block of image n, output rows [oy0, oy1): the input itself for 1x1 s1, else a filled buffer. */
    private static ColBlock colBlock(ConvGeometry g, float[] x, int n, int oy0, int oy1) {
        int xOff = n * g.cin() * g.inPlane();
        if (g.isPointwise()) return new ColBlock(x, xOff + oy0 * g.w(), g.inPlane());
        int cols = (oy1 - oy0) * g.wout();
        float[] col = scratch(g.k() * cols);
        Im2col.im2col(g, x, xOff, oy0, oy1, col);
        return new ColBlock(col, 0, cols);
    }

    // ---- general path ----------------------------------------------------------------------

    private static void blockedForward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out) {
        int rows = rowsPerBlock(g), blocks = Math.ceilDiv(g.hout(), rows);
        int k = g.k(), cout = g.cout(), plane = g.outPlane();
        Gemm.Bias bv = bias == null ? null : new Gemm.Bias(bias, 0, true);
        Parallel.forEach(g.n() * blocks, task -> {
            int n = task / blocks, oy0 = (task % blocks) * rows, oy1 = Math.min(g.hout(), oy0 + rows);
            int cols = (oy1 - oy0) * g.wout();
            int outOff = n * cout * plane + oy0 * g.wout();
            ColBlock c = colBlock(g, x, n, oy0, oy1);
            Gemm.sgemmBias(false, false, cout, cols, k, w, 0, k, c.data, c.offset, c.ld, bv, out, outOff, plane);
        });
    }

    private static void biasGrad(ConvGeometry g, float[] gout, float[] gb) {
        int plane = g.outPlane();
        Parallel.forEach(g.cout(), co -> {
            double s = 0; // vector partial sums per image (a scalar chain was 1 add per 4 cycles)
            for (int n = 0; n < g.n(); n++) s += VecMath.sum(gout, (n * g.cout() + co) * plane, plane);
            gb[co] += (float) s;
        });
    }

    /** dW = sum over blocks of gout_block (Cout x cols) * col_block^T, via per-chunk partials summed in chunk order. */
    private static void blockedWeightGrad(ConvGeometry g, float[] x, float[] gout, float[] gw) {
        int rows = rowsPerBlock(g), blocks = Math.ceilDiv(g.hout(), rows);
        int tasks = g.n() * blocks, chunks = Math.min(Parallel.threads(), tasks);
        int k = g.k(), cout = g.cout(), plane = g.outPlane();
        float[][] partial = new float[chunks][];
        Parallel.forEach(chunks, chunk -> {
            float[] acc = new float[cout * k];
            int t0 = (int) ((long) tasks * chunk / chunks), t1 = (int) ((long) tasks * (chunk + 1) / chunks);
            for (int task = t0; task < t1; task++) {
                int n = task / blocks, oy0 = (task % blocks) * rows, oy1 = Math.min(g.hout(), oy0 + rows);
                int cols = (oy1 - oy0) * g.wout();
                ColBlock c = colBlock(g, x, n, oy0, oy1);
                Gemm.sgemm(false, true, cout, k, cols, gout, n * cout * plane + oy0 * g.wout(), plane,
                        c.data, c.offset, c.ld, 1f, acc, 0, k);
            }
            partial[chunk] = acc;
        });
        for (float[] acc : partial) for (int i = 0; i < acc.length; i++) gw[i] += acc[i];
    }

    /**
     * dX: per image, dcol = W^T (k x Cout) * gout (Cout x cols), then col2im. Col2im of neighbouring
     * row blocks overlaps, so with enough images tasks are whole images; with few images each image's
     * dcol is one GEMM and col2im runs in parallel over input channels.
     */
    private static void blockedInputGrad(ConvGeometry g, float[] w, float[] gout, float[] gx) {
        int k = g.k(), cout = g.cout(), plane = g.outPlane(), inImage = g.cin() * g.inPlane();
        if (g.isPointwise()) {
            // dX_n (Cin x HW) += W^T (Cin x Cout) * gout_n (Cout x HW), straight into the gradient.
            Parallel.forEach(g.n(), n -> Gemm.sgemm(true, false, g.cin(), plane, cout, w, 0, g.cin(),
                    gout, n * cout * plane, plane, 1f, gx, n * inImage, plane));
            return;
        }
        if (g.n() >= Parallel.threads()) {
            int rows = rowsPerBlock(g), blocks = Math.ceilDiv(g.hout(), rows);
            Parallel.forEach(g.n(), n -> {
                for (int blk = 0; blk < blocks; blk++) {
                    int oy0 = blk * rows, oy1 = Math.min(g.hout(), oy0 + rows), cols = (oy1 - oy0) * g.wout();
                    float[] dcol = scratch(k * cols);
                    Gemm.sgemm(true, false, k, cols, cout, w, 0, k, gout, n * cout * plane + oy0 * g.wout(), plane, 0f, dcol, 0, cols);
                    Im2col.col2imAdd(g, dcol, oy0, oy1, 0, g.cin(), gx, n * inImage);
                }
            });
        } else {
            float[] dcol = new float[k * plane];
            for (int n = 0; n < g.n(); n++) {
                Gemm.sgemm(true, false, k, plane, cout, w, 0, k, gout, n * cout * plane, plane, 0f, dcol, 0, plane);
                int xOff = n * inImage;
                Parallel.forEach(g.cin(), ci -> Im2col.col2imAdd(g, dcol, 0, g.hout(), ci, ci + 1, gx, xOff));
            }
        }
    }

    // ---- non-overlapping patches (kernel == stride, no padding) ------------------------------

    /** Patch matrix P (N*L x k) for the whole batch, built in parallel over images. */
    private static float[] patchMatrix(ConvGeometry g, float[] x) {
        float[] p = BufferPool.temporary(g.n() * g.outPlane() * g.k());
        Parallel.forEach(g.n(), n -> Im2col.patches(g, x, n, n + 1, p));
        return p;
    }

    /** out' (Cout x N*L) = W (Cout x k) * P^T in one GEMM, then rows are moved to (N, Cout, L) with the bias. */
    private static void patchifyForward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out) {
        int cols = g.n() * g.outPlane(), plane = g.outPlane(), cout = g.cout(), k = g.k();
        float[] p = patchMatrix(g, x);
        float[] t = BufferPool.temporary(cout * cols);
        Gemm.sgemm(false, true, cout, cols, k, w, 0, k, p, 0, k, 0f, t, 0, cols);
        BufferPool.release(p);
        Parallel.forEach(g.n(), n -> {
            for (int co = 0; co < cout; co++) {
                int dst = (n * cout + co) * plane, src = co * cols + n * plane;
                float b = bias == null ? 0f : bias[co];
                for (int i = 0; i < plane; i++) out[dst + i] = t[src + i] + b;
            }
        });
        BufferPool.release(t);
    }

    private static void patchifyBackward(ConvGeometry g, Tensor x, Tensor w, float[] gout) {
        int cols = g.n() * g.outPlane(), plane = g.outPlane(), cout = g.cout(), k = g.k();
        // gout (N, Cout, L) -> gT (Cout, N*L), the layout of the forward GEMM's output.
        float[] gt = BufferPool.temporary(cout * cols);
        Parallel.forEach(g.n(), n -> {
            for (int co = 0; co < cout; co++) System.arraycopy(gout, (n * cout + co) * plane, gt, co * cols + n * plane, plane);
        });
        if (w.requiresGrad()) {
            float[] p = patchMatrix(g, x.data);
            Gemm.sgemm(false, false, cout, k, cols, gt, 0, cols, p, 0, k, 1f, w.gradBuffer(), 0, k);
            BufferPool.release(p);
        }
        if (x.requiresGrad()) {
            float[] dp = BufferPool.temporary(cols * k);
            Gemm.sgemm(true, false, cols, k, cout, gt, 0, cols, w.data, 0, k, 0f, dp, 0, k);
            float[] gx = x.gradBuffer();
            Parallel.forEach(g.n(), n -> Im2col.patchesAdd(g, dp, n, n + 1, gx));
            BufferPool.release(dp);
        }
        BufferPool.release(gt);
    }
}
