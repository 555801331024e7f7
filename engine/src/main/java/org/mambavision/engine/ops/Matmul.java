package org.mambavision.engine.ops;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;

/**
 * Batched matrix product op(a) op(b) over the last two dimensions.
 *
 * <p>a is (..., M, K), or (..., K, M) with transA; b is (..., K, N), or (..., N, K) with transB.
 * The leading (batch) dimensions of a and b must be equal, or b may be a plain matrix shared by
 * every batch of a. The output is (..., M, N). Transposes are never materialised: they become the
 * transpose flags of {@link Gemm#sgemm}.
 */
public final class Matmul {
    /** Batches whose matrices are smaller than this run one per task instead of splitting each GEMM. */
    private static final long SMALL_GEMM_FLOPS = 1L << 22;

    private Matmul() {}

    private static String lastTwoSwapped(OpTrace tr, Tensor t) {
        long[] perm = new long[t.rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[perm.length - 2] = perm.length - 1;
        perm[perm.length - 1] = perm.length - 2;
        return tr.transpose(t, perm);
    }

    public static Tensor forward(Tensor a, Tensor b) {
        return forward(a, b, false, false);
    }

    public static Tensor forward(Tensor a, Tensor b, boolean transA, boolean transB) {
        String what = "Matmul(transA=" + transA + ", transB=" + transB + "): ";
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException(what + "both operands need rank >= 2, got " + a.shapeString() + " vs " + b.shapeString());
        }
        int[] as = a.shape(), bs = b.shape();
        int M = transA ? a.dim(-1) : a.dim(-2), K = transA ? a.dim(-2) : a.dim(-1);
        int Kb = transB ? b.dim(-1) : b.dim(-2), N = transB ? b.dim(-2) : b.dim(-1);
        if (K != Kb) {
            throw new IllegalArgumentException(what + "inner dimensions differ (" + K + " vs " + Kb + ") for " + a.shapeString() + " vs " + b.shapeString());
        }
        int[] batchDims = Arrays.copyOf(as, as.length - 2);
        boolean shared = b.rank() == 2;
        if (!shared && !Arrays.equals(batchDims, Arrays.copyOf(bs, bs.length - 2))) {
            throw new IllegalArgumentException(what + "batch dimensions differ for " + a.shapeString() + " vs " + b.shapeString());
        }
        int batch = Tensor.numel(batchDims);
        int[] outShape = Arrays.copyOf(batchDims, batchDims.length + 2);
        outShape[batchDims.length] = M;
        outShape[batchDims.length + 1] = N;
        Tensor out = Tensor.empty(outShape);

        int lda = transA ? M : K, ldb = transB ? K : N;
        int aStride = M * K, bStride = shared ? 0 : K * N, cStride = M * N;
        float[] A = a.data, B = b.data;
        if (shared && !transA) {
            // Rows of every batch are contiguous: one GEMM of (batch*M) x K by op(b).
            Gemm.sgemm(false, transB, batch * M, N, K, A, 0, K, B, 0, ldb, 0f, out.data, 0, N);
        } else {
            float[] C = out.data;
            forBatches(batch, 2L * M * N * K, i -> Gemm.sgemm(transA, transB, M, N, K,
                    A, i * aStride, lda, B, i * bStride, ldb, 0f, C, i * cStride, N));
        }

        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(a, b)) {
            tr.bind(out, tr.tmp("MatMul", transA ? lastTwoSwapped(tr, a) : a, transB ? lastTwoSwapped(tr, b) : b));
        }
        Tape.record(out, () -> {
            float[] G = out.grad;
            if (a.requiresGrad()) {
                float[] gA = a.gradBuffer();
                if (!transA && shared) {
                    // d(a) = G op(b)^T for all batches at once.
                    Gemm.sgemm(false, !transB, batch * M, K, N, G, 0, N, B, 0, ldb, 1f, gA, 0, K);
                } else if (!transA) {
                    forBatches(batch, 2L * M * N * K, i -> Gemm.sgemm(false, !transB, M, K, N,
                            G, i * cStride, N, B, i * bStride, ldb, 1f, gA, i * aStride, K));
                } else {
                    // a is stored K x M: d(a) = op(b) G^T.
                    forBatches(batch, 2L * M * N * K, i -> Gemm.sgemm(transB, true, K, M, N,
                            B, i * bStride, ldb, G, i * cStride, N, 1f, gA, i * aStride, M));
                }
            }
            if (b.requiresGrad()) {
                float[] gB = b.gradBuffer();
                if (shared && !transA) {
                    // Sum over the batch folded into the GEMM's K dimension (batch*M).
                    if (!transB) Gemm.sgemm(true, false, K, N, batch * M, A, 0, K, G, 0, N, 1f, gB, 0, N);
                    else Gemm.sgemm(true, false, N, K, batch * M, G, 0, N, A, 0, K, 1f, gB, 0, K);
                } else {
                    IntConsumer one = i -> {
                        if (!transB) Gemm.sgemm(!transA, false, K, N, M, A, i * aStride, lda, G, i * cStride, N, 1f, gB, i * bStride, N);
                        else Gemm.sgemm(true, transA, N, K, M, G, i * cStride, N, A, i * aStride, lda, 1f, gB, i * bStride, K);
                    };
                    if (shared) {
                        for (int i = 0; i < batch; i++) one.accept(i); // same output for every batch: in order
                    } else {
                        forBatches(batch, 2L * M * N * K, one);
                    }
                }
            }
        }, a, b);
        return out;
    }

    /** Runs one GEMM per batch: small ones spread over the threads, large ones one after another. */
    private static void forBatches(int batch, long flopsEach, IntConsumer gemm) {
        if (batch > 1 && flopsEach < SMALL_GEMM_FLOPS) {
            Parallel.forEach(batch, gemm);
        } else {
            for (int i = 0; i < batch; i++) gemm.accept(i);
        }
    }
}
