package org.mambavision.engine.kernels;

import org.mambavision.engine.Parallel;

/**
 * Single-precision matrix multiply: C = op(A) * op(B) + beta * C, with op(A) of shape M x K and
 * op(B) of shape K x N, row-major with leading dimensions lda, ldb, ldc.
 * transA: A is stored K x M (op(A) = A^T); transB: B is stored N x K.
 *
 * <p>Reference implementation (row-parallel, scalar); to be replaced by the packed,
 * register-blocked Vector API kernel with the same signature.
 */
public final class Gemm {
    private Gemm() {}

    public static void sgemm(boolean transA, boolean transB, int M, int N, int K,
                             float[] A, int offA, int lda, float[] B, int offB, int ldb,
                             float beta, float[] C, int offC, int ldc) {
        Parallel.forRange(M, 4, (m0, m1) -> {
            for (int i = m0; i < m1; i++) {
                int ci = offC + i * ldc;
                for (int j = 0; j < N; j++) {
                    float s = 0;
                    for (int k = 0; k < K; k++) {
                        float a = transA ? A[offA + k * lda + i] : A[offA + i * lda + k];
                        float b = transB ? B[offB + j * ldb + k] : B[offB + k * ldb + j];
                        s += a * b;
                    }
                    C[ci + j] = beta == 0 ? s : s + beta * C[ci + j];
                }
            }
        });
    }
}
