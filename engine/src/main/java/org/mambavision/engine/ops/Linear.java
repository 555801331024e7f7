package org.mambavision.engine.ops;

import org.mambavision.engine.BufferPool;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.kernels.VecMath;

/**
 * Fully connected layer y = x W^T + b with PyTorch's weight layout.
 *
 * <p>x is (..., in), weight (out, in), bias (out) or null; y is (..., out). All leading dimensions
 * are flattened into R rows, so the forward and each gradient is a single GEMM.
 */
public final class Linear {
    private Linear() {}

    /**
     * The ONNX nodes of rows [r0, r1) of a linear layer between the layouts of {@link #forwardLayout}: a MatMul by the
     * transposed rows (token-major output) or of the rows by the input (channels-first in and out), plus the bias.
     * Returns the output's name.
     */
    private static String emit(OpTrace tr, Tensor x, boolean xChannelsFirst, Tensor weight, int r0, int r1, Tensor bias,
                               boolean yChannelsFirst) {
        int in = weight.dim(1), n = r1 - r0;
        String rows = r0 == 0 && r1 == weight.dim(0) ? "" : "[" + r0 + ":" + r1 + "]";
        boolean col = yChannelsFirst && xChannelsFirst;
        String b = bias == null ? null : rows.isEmpty() && !col ? tr.name(bias)
                : tr.derived(bias, rows + (col ? ".col" : ""), () -> java.util.Arrays.copyOfRange(bias.data, r0, r1), col ? new int[] {n, 1} : new int[] {n});
        String y;
        if (col) {
            String w = rows.isEmpty() ? tr.name(weight) : tr.derived(weight, rows, () -> java.util.Arrays.copyOfRange(weight.data, r0 * in, r1 * in), n, in);
            y = tr.tmp("MatMul", w, x);
        } else {
            String wT = tr.derived(weight, rows + ".T", () -> {
                float[] t = new float[in * n];
                for (int r = 0; r < n; r++) for (int i = 0; i < in; i++) t[i * n + r] = weight.data[(r0 + r) * in + i];
                return t;
            }, in, n);
            y = tr.tmp("MatMul", xChannelsFirst ? tr.transpose(x, 0, 2, 1) : x, wT);
        }
        if (b != null) y = tr.tmp("Add", y, b);
        return yChannelsFirst && !xChannelsFirst ? tr.transpose(y, 0, 2, 1) : y;
    }

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        return forward(x, weight, bias, null);
    }

    /**
     * As {@link #forward(Tensor, Tensor, Tensor)}, reading the weight from {@code packedWeight} when it is not
     * null: {@code Gemm.packB(true, out, in, weight.data, 0, in)} made by the caller, who guarantees that it
     * is current (the same bits as without it; the backward reads the weight itself).
     */
    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Gemm.PackedB packedWeight) {
        return forward(x, weight, bias, packedWeight, null);
    }

    /**
     * Outputs up to this many floats (1 MiB, cache-resident) get the activation in a pass of its own after the product
     * rather than on each finished micro-tile. MambaVision-T at batch 1 (fc1 outputs of 196 x 1280 and 49 x 2560), the
     * two alternating within each of three JVMs: best 51.0 / 53.5 / 52.2 ms against 52.8 / 54.5 / 53.0 per tile.
     */
    private static final int SEPARATE_ACT_MAX = 1 << 18;

    /**
     * act(x W^T + b), the activation applied to each micro-tile of the product as it is finished (no pass of
     * its own over a large y; a small one gets a pass after the product, see SEPARATE_ACT_MAX) when no gradient is
     * recorded; with a tape, the two ops as usual. The same bits either way.
     */
    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Gemm.PackedB packedWeight, Activations.Function act) {
        if (act != null && (Tape.needsGrad(x, weight, bias) || OpTrace.active() != null)) return act.apply(forward(x, weight, bias, packedWeight, null));
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("Linear: input " + x.shapeString() + " does not match weight " + weight.shapeString() + " (out, in)");
        }
        int in = weight.dim(1), outF = weight.dim(0);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outF)) {
            throw new IllegalArgumentException("Linear: bias " + bias.shapeString() + " does not match weight " + weight.shapeString());
        }
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = outF;
        Tensor y = Tensor.empty(outShape);
        int R = in == 0 ? y.numel() / Math.max(1, outF) : x.numel() / in;
        float[] Y = y.data;
        Gemm.Bias bv = bias == null ? null : new Gemm.Bias(bias.data, 0, false);
        boolean sep = (long) R * outF <= SEPARATE_ACT_MAX;
        Gemm.Epilogue epilogue = act == null || sep ? null : (C, off, ldc, rows, cols) -> {
            for (int r = 0; r < rows; r++) act.applyInPlace(C, off + r * ldc, off + r * ldc + cols);
        };
        if (packedWeight != null) {
            checkPacked("Linear", packedWeight, outF, in);
            Gemm.sgemmPackedB(false, R, x.data, 0, in, packedWeight, bv, Y, 0, outF, epilogue);
        } else {
            Gemm.sgemmBias(false, true, R, outF, in, x.data, 0, in, weight.data, 0, in, bv, Y, 0, outF, epilogue);
        }
        if (act != null && sep) Parallel.forRange(y.numel(), 16384, (s, e) -> act.applyInPlace(Y, s, e));
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.bind(y, emit(tr, x, false, weight, 0, outF, bias, false));

        Tape.record(y, () -> {
            float[] G = y.grad;
            if (x.requiresGrad()) {
                boolean fresh = x.allocateGradForOverwrite(); // assign (beta 0) rather than zero-fill and add
                Gemm.sgemm(false, false, R, in, outF, G, 0, outF, weight.data, 0, in, fresh ? 0f : 1f, x.grad, 0, in);
            }
            if (weight.requiresGrad()) { // likewise assigned when fresh (the first micro-batch after zeroGrad)
                float beta = weight.allocateGradForOverwrite() ? 0f : 1f;
                Gemm.sgemm(true, false, outF, in, R, G, 0, outF, x.data, 0, in, beta, weight.grad, 0, in);
            }
            if (bias != null && bias.requiresGrad()) {
                addColumnSums(G, R, outF, bias.gradBuffer());
            }
        }, x, weight, bias);
        return y;
    }

    /**
     * A linear layer on a batch of sequences with a choice of layouts, using only the weight rows
     * [r0, r1) (and bias entries): per batch element b, with X_b the (L, in) token matrix and
     * Y_b = X_b W[r0:r1]^T + bias[r0:r1] of shape (L, n = r1 - r0).
     * x is stored (B, L, in), or (B, in, L) when {@code xChannelsFirst}; y is (B, L, n), or (B, n, L)
     * when {@code yChannelsFirst}. The layout change is folded into the GEMMs' transpose flags (one GEMM per
     * batch element), so a transpose + linear + split costs no copies (Mamba's channels-first conv/scan between
     * token-major projections); token-major in and channels-first out with several batch elements is instead one
     * GEMM over all tokens and a transposing copy (faster than products of L columns). The weight gradient of rows [r0, r1) is accumulated; several calls may share one weight.
     */
    public static Tensor forwardLayout(Tensor x, boolean xChannelsFirst, Tensor weight, int r0, int r1, Tensor bias,
                                       boolean yChannelsFirst) {
        return forwardLayout(x, xChannelsFirst, weight, r0, r1, bias, yChannelsFirst, null);
    }

    /**
     * As above, with the weight rows [r0, r1) packed by the caller ({@code Gemm.packB(true, r1 - r0, in,
     * weight.data, r0 * in, in)}, or null), used where the weight is the GEMM's B operand (token-major output,
     * or token-major input with several batch elements).
     */
    public static Tensor forwardLayout(Tensor x, boolean xChannelsFirst, Tensor weight, int r0, int r1, Tensor bias,
                                       boolean yChannelsFirst, Gemm.PackedB packedRows) {
        if (x.rank() != 3 || weight.rank() != 2 || r0 < 0 || r1 > weight.dim(0) || r0 >= r1
                || x.dim(xChannelsFirst ? 1 : 2) != weight.dim(1)) {
            throw new IllegalArgumentException("Linear.forwardLayout: input " + x.shapeString() + (xChannelsFirst ? " (B, in, L)" : " (B, L, in)")
                    + " does not match weight " + weight.shapeString() + " rows [" + r0 + ", " + r1 + ")");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("Linear.forwardLayout: bias " + bias.shapeString() + " does not match weight " + weight.shapeString());
        }
        int batch = x.dim(0), in = weight.dim(1), n = r1 - r0, L = x.dim(xChannelsFirst ? 2 : 1);
        int xImage = L * in, yImage = L * n, wOff = r0 * in;
        Tensor y = yChannelsFirst ? Tensor.empty(batch, n, L) : Tensor.empty(batch, L, n);
        float[] X = x.data, W = weight.data, Y = y.data;
        if (packedRows != null) checkPacked("Linear.forwardLayout", packedRows, n, in);
        if (batch > 1 && !xChannelsFirst && yChannelsFirst) {
            forwardToChannelsFirst(batch, L, in, n, X, W, wOff, bias == null ? null : new Gemm.Bias(bias.data, r0, false), Y, packedRows);
        } else {
            forwardPerBatch(batch, L, in, n, X, xChannelsFirst, W, wOff, bias == null ? null : new Gemm.Bias(bias.data, r0, yChannelsFirst),
                    Y, yChannelsFirst, packedRows);
        }
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.bind(y, emit(tr, x, xChannelsFirst, weight, r0, r1, bias, yChannelsFirst));

        Tape.record(y, () -> {
            float[] G = y.grad;
            int ldg = yChannelsFirst ? L : n;
            if (x.requiresGrad()) {
                // each product writes all of dX_b: a gradient nothing has written yet is assigned (beta 0), not zero-filled
                float beta = x.allocateGradForOverwrite() ? 0f : 1f;
                float[] gx = x.grad;
                // W_r as B is packed once for all batch elements, not once per product (same bits)
                Gemm.PackedB pw = !xChannelsFirst && batch > 1 ? Gemm.packB(false, in, n, W, wOff, in) : null;
                forBatches(batch, b -> {
                    if (xChannelsFirst) { // dX_b^T (in, L) += W_r^T (in, n) * G_b^T (n, L)
                        Gemm.sgemm(true, !yChannelsFirst, in, L, n, W, wOff, in, G, b * yImage, ldg, beta, gx, b * xImage, L);
                    } else if (pw != null) { // dX_b (L, in) += G_b (L, n) * W_r (n, in)
                        Gemm.sgemmPackedB(yChannelsFirst, L, G, b * yImage, ldg, pw, beta, gx, b * xImage, in);
                    } else {
                        Gemm.sgemm(yChannelsFirst, false, L, in, n, G, b * yImage, ldg, W, wOff, in, beta, gx, b * xImage, in);
                    }
                });
            }
            if (weight.requiresGrad()) {
                // dW_r (n, in) = sum_b G_b^T (n, L) * X_b (L, in): per-chunk partials over batch ranges, summed in chunk order.
                int chunks = Math.min(Parallel.threads(), batch);
                float[][] partial = new float[chunks][];
                Parallel.forEach(chunks, c -> {
                    float[] acc = new float[n * in];
                    int b0 = (int) ((long) batch * c / chunks), b1 = (int) ((long) batch * (c + 1) / chunks);
                    for (int b = b0; b < b1; b++) {
                        Gemm.sgemm(!yChannelsFirst, xChannelsFirst, n, in, L, G, b * yImage, ldg, X, b * xImage,
                                xChannelsFirst ? L : in, 1f, acc, 0, in);
                    }
                    partial[c] = acc;
                });
                float[] gw = weight.gradBuffer();
                for (float[] acc : partial) VecMath.addInto(n * in, acc, 0, gw, wOff);
            }
            if (bias != null && bias.requiresGrad()) {
                float[] gb = bias.gradBuffer();
                if (yChannelsFirst) {
                    Parallel.forRange(n, 8, (j0, j1) -> {
                        for (int j = j0; j < j1; j++) {
                            float s = 0;
                            for (int b = 0; b < batch; b++) s += VecMath.sum(G, b * yImage + j * L, L);
                            gb[r0 + j] += s;
                        }
                    });
                } else {
                    float[] part = new float[n];
                    addColumnSums(G, batch * L, n, part);
                    for (int j = 0; j < n; j++) gb[r0 + j] += part[j];
                }
            }
        }, x, weight, bias);
        return y;
    }

    /** Per batch element: Y_b (or Y_b^T) from X_b (or X_b^T), the layouts folded into the transpose flags. */
    private static void forwardPerBatch(int batch, int L, int in, int n, float[] X, boolean xChannelsFirst, float[] W, int wOff,
                                        Gemm.Bias bv, float[] Y, boolean yChannelsFirst, Gemm.PackedB packedRows) {
        int xImage = L * in, yImage = L * n;
        // Where W_r^T is B, it is packed once for all batch elements (same bits as packing it per product).
        Gemm.PackedB packed = packedRows != null || yChannelsFirst || batch < 2 ? packedRows : Gemm.packB(true, n, in, W, wOff, in);
        forBatches(batch, b -> {
            int yo = b * yImage;
            if (yChannelsFirst) { // Y_b^T (n, L) = W_r (n, in) * X_b^T (in, L): the weight is A, never packed
                Gemm.sgemmBias(false, !xChannelsFirst, n, L, in, W, wOff, in, X, b * xImage, xChannelsFirst ? L : in, bv, Y, yo, L);
            } else if (packed != null) {
                Gemm.sgemmPackedB(xChannelsFirst, L, X, b * xImage, xChannelsFirst ? L : in, packed, bv, Y, yo, n);
            } else {               // Y_b (L, n) = X_b (L, in) * W_r^T
                Gemm.sgemmBias(xChannelsFirst, true, L, n, in, X, b * xImage, xChannelsFirst ? L : in, W, wOff, in, bv, Y, yo, n);
            }
        });
    }

    /**
     * Token-major x to channels-first y as one product over all batch * L tokens, then a transposing copy:
     * per-batch products have only L (196, 49) columns and run at a fraction of the GEMM's speed (MambaVision-T's
     * level-3 in_proj at batch 32: 5 ms as one product, 9.5 ms per batch). Each output element is the same sum in the same order as per
     * batch (fma is symmetric in its factors), unless a per-batch product would have split a long K (in >= 2048
     * with a small n * L). The reverse layout (channels-first in) stays per batch: there the
     * transposed operand packs as cheaply as a plain one, and a transposing copy measured slower.
     */
    private static void forwardToChannelsFirst(int batch, int L, int in, int n, float[] X, float[] W, int wOff,
                                               Gemm.Bias columnBias, float[] Y, Gemm.PackedB packed) {
        int tokens = batch * L;
        float[] yt = BufferPool.temporary(tokens * n);
        if (packed != null) Gemm.sgemmPackedB(false, tokens, X, 0, in, packed, columnBias, yt, 0, n);
        else Gemm.sgemmBias(false, true, tokens, n, in, X, 0, in, W, wOff, in, columnBias, yt, 0, n); // (B*L, n) = X W_r^T
        Shapes.permuteInto(yt, new int[] {batch, L, n}, new int[] {0, 2, 1}, Y, false);
        BufferPool.release(yt);
    }

    private static void checkPacked(String op, Gemm.PackedB packed, int n, int in) {
        if (packed.n() != n || packed.k() != in) {
            throw new IllegalArgumentException(op + ": packed weight is " + packed.n() + "x" + packed.k() + ", the layer needs " + n + "x" + in);
        }
    }

    /** One task per batch element when there are enough of them; otherwise in order, each GEMM using the threads. */
    private static void forBatches(int batch, java.util.function.IntConsumer body) {
        if (batch >= Parallel.threads()) Parallel.forEach(batch, body);
        else for (int b = 0; b < batch; b++) body.accept(b);
    }

    /** Rows per partial sum of {@link #addColumnSums}: fixed, so the rounding does not depend on the thread count. */
    private static final int SUM_ROWS = 512;

    /**
     * acc[j] += sum_r g[r*cols + j]: each task adds a block of SUM_ROWS rows into a partial row (vector adds
     * along the row, the rows in order), and the partials are added to acc in block order.
     */
    static void addColumnSums(float[] g, int rows, int cols, float[] acc) {
        int blocks = Math.max(1, Math.ceilDiv(rows, SUM_ROWS));
        float[] part = BufferPool.temporary(blocks * cols);
        Parallel.forEach(blocks, blk -> {
            int r0 = blk * SUM_ROWS, r1 = Math.min(rows, r0 + SUM_ROWS), o = blk * cols;
            java.util.Arrays.fill(part, o, o + cols, 0f);
            for (int r = r0; r < r1; r++) VecMath.addInto(cols, g, r * cols, part, o);
        });
        for (int blk = 0; blk < blocks; blk++) VecMath.addInto(cols, part, blk * cols, acc, 0);
        BufferPool.release(part);
    }
}
