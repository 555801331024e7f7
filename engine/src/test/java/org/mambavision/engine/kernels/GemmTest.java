package org.mambavision.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GemmTest {
    private static final float SENTINEL = 777f;
    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 7, 13}, {7, 1, 33}, {13, 33, 1}, {7, 13, 7}, {33, 67, 13}, {67, 130, 33},
        {130, 7, 67}, {130, 67, 130}, {8, 48, 256}, {16, 96, 257}, {257, 129, 300},
        // panels of one or two rows (a row at a time), a one-row edge under full panels, a few rows by a large B (threads)
        {1, 100, 200}, {2, 150, 70}, {49, 96, 400}, {1, 1000, 300},
    };

    /** Operands stored with a prefix offset and padded leading dimensions; checks C against a double reference. */
    private static void checkCase(boolean transA, boolean transB, int M, int N, int K, float beta, boolean viaReference) {
        SplittableRandom rng = new SplittableRandom(31L * M + 7L * N + K + (transA ? 1000 : 0) + (transB ? 2000 : 0));
        int aRows = transA ? K : M, aCols = transA ? M : K, bRows = transB ? N : K, bCols = transB ? K : N;
        int lda = aCols + 3, ldb = bCols + 5, ldc = N + 2, offA = 5, offB = 3, offC = 7;
        float[] A = random(rng, offA + aRows * lda), B = random(rng, offB + bRows * ldb);
        float[] C = new float[offC + M * ldc + 4];
        Arrays.fill(C, SENTINEL);
        float[] c0 = new float[M * N];
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                float v = beta == 0 ? Float.NaN : (float) (rng.nextDouble() - 0.5); // NaN must not leak when beta == 0
                C[offC + i * ldc + j] = v;
                c0[i * N + j] = v;
            }
        }
        if (viaReference) Gemm.reference(transA, transB, M, N, K, A, offA, lda, B, offB, ldb, beta, C, offC, ldc);
        else Gemm.sgemm(transA, transB, M, N, K, A, offA, lda, B, offB, ldb, beta, C, offC, ldc);
        String where = (viaReference ? "reference" : "sgemm") + " transA=" + transA + " transB=" + transB + " " + M + "x" + N + "x" + K + " beta=" + beta;
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double exact = 0, abs = 0;
                for (int k = 0; k < K; k++) {
                    double a = transA ? A[offA + k * lda + i] : A[offA + i * lda + k];
                    double b = transB ? B[offB + j * ldb + k] : B[offB + k * ldb + j];
                    exact += a * b;
                    abs += Math.abs(a * b);
                }
                if (beta != 0) {
                    exact += beta * c0[i * N + j];
                    abs += Math.abs(beta * c0[i * N + j]);
                }
                double got = C[offC + i * ldc + j];
                double tol = 1.2e-7 * (K + 2) * abs + 1e-6;
                if (!(Math.abs(got - exact) <= tol)) fail(where + ": C[" + i + "," + j + "] = " + got + ", expected " + exact);
            }
        }
        // Nothing outside the logical M x N window of C is touched.
        for (int p = 0; p < C.length; p++) {
            int q = p - offC;
            boolean inside = q >= 0 && q / ldc < M && q % ldc < N;
            if (!inside) assertEquals(SENTINEL, C[p], where + ": wrote outside C at " + p);
        }
    }

    @Test
    void matchesReferenceForAllTransposesBetasAndShapes() {
        for (int[] s : SHAPES) {
            for (int t = 0; t < 4; t++) {
                for (float beta : new float[] {0f, 1f, 0.5f}) checkCase((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], beta, false);
            }
        }
    }

    @Test
    void referenceItselfIsCorrect() {
        for (int t = 0; t < 4; t++) checkCase((t & 1) != 0, (t & 2) != 0, 13, 7, 33, 1f, true);
    }

    @Test
    void largeParallelProblemMatchesReference() {
        // Large enough to be split into several tiles and K blocks, run on the pool.
        checkCase(false, false, 300, 700, 530, 0f, false);
        checkCase(true, false, 200, 260, 1100, 1f, false);
        checkCase(false, true, 500, 100, 300, 0f, false);
        checkCase(true, true, 1000, 50, 300, 1f, false); // tiles taller than one packed A block
    }

    @Test
    void longKSmallCIsSplitIntoChunksAndStillMatchesReference() {
        assertTrue(Gemm.kChunks(24, 40, 4100) > 1 && Gemm.kChunks(37, 53, 2500) > 1, "these shapes take the split-K path");
        assertEquals(1, Gemm.kChunks(1024, 1024, 4096), "a large C keeps one chunk");
        for (int t = 0; t < 4; t++) {
            for (float beta : new float[] {0f, 1f, 0.5f}) checkCase((t & 1) != 0, (t & 2) != 0, 24, 40, 4100, beta, false);
        }
        checkCase(true, false, 37, 53, 2500, 1f, false); // chunks that do not divide K evenly, odd edges
        checkCase(false, true, 7, 3, 9000, 0f, false);
    }

    @Test
    void biasIsAddedPerRowOrColumnExactlyAsAPrefilledBetaOneProduct() {
        int[][] shapes = {{13, 37, 5}, {50, 101, 400}, {24, 40, 4100}, {300, 70, 200}, {3, 5, 0}};
        for (int[] s : shapes) {
            int M = s[0], N = s[1], K = s[2], ldc = N + 3, off = 2;
            SplittableRandom rng = new SplittableRandom(M * 31L + N + K);
            float[] A = random(rng, M * K), B = random(rng, K * N), bias = random(rng, off + Math.max(M, N));
            for (boolean perRow : new boolean[] {false, true}) {
                float[] expected = new float[M * ldc], got = new float[M * ldc];
                Arrays.fill(got, Float.NaN); // never read
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) expected[i * ldc + j] = perRow ? bias[off + i] : bias[off + j];
                }
                Gemm.sgemm(false, true, M, N, K, A, 0, K, transpose(B, K, N), 0, K, 1f, expected, 0, ldc);
                Gemm.sgemmBias(false, true, M, N, K, A, 0, K, transpose(B, K, N), 0, K, new Gemm.Bias(bias, off, perRow), got, 0, ldc);
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        assertEquals(expected[i * ldc + j], got[i * ldc + j], M + "x" + N + "x" + K + " perRow=" + perRow + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    private static float[] transpose(float[] b, int rows, int cols) {
        float[] t = new float[b.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = b[r * cols + c];
        return t;
    }

    /**
     * Gathered B (lines at arbitrary offsets of one array, as convolution taps over a padded input) gives
     * bitwise the product of the same matrix copied out: the lines only change how panels are packed.
     */
    @Test
    void gatheredLinesOfBMatchTheMaterializedMatrix() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(11);
        int[][] shapes = {{19, 53, 37}, {8, 48, 16}, {80, 300, 200}, {24, 40, 4100}, {5, 3, 2}};
        for (int[] s : shapes) {
            int M = s[0], N = s[1], K = s[2];
            for (boolean transB : new boolean[] {false, true}) {
                int lines = transB ? N : K, len = transB ? K : N;
                float[] src = new float[lines * len + 7 * lines + 64];
                for (int i = 0; i < src.length; i++) src[i] = (float) rng.nextGaussian();
                int[] off = new int[lines];
                for (int r = 0; r < lines; r++) off[r] = rng.nextInt(src.length - len + 1); // overlapping, any order
                float[] B = new float[K * N]; // the same matrix, stored as the plain call expects
                for (int r = 0; r < lines; r++) System.arraycopy(src, off[r], B, r * len, len);
                float[] A = new float[M * K];
                for (int i = 0; i < A.length; i++) A[i] = (float) rng.nextGaussian();
                float[] C0 = new float[M * N], C1 = new float[M * N];
                for (int i = 0; i < C0.length; i++) C0[i] = C1[i] = (float) rng.nextGaussian();
                Gemm.sgemm(false, transB, M, N, K, A, 0, K, B, 0, len, 1f, C0, 0, N);
                Gemm.sgemmGatheredB(false, transB, M, N, K, A, 0, K, src, off, 1f, null, C1, 0, N);
                assertArrayEquals(C0, C1, M + "x" + N + "x" + K + " transB=" + transB);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Gemm.sgemmGatheredB(false, false, 2, 2, 3, new float[6], 0, 3,
                new float[8], new int[2], 0f, null, new float[4], 0, 2));
    }

    /** A packed B is a copy in the kernel's layout: products with it give the bits of products with B itself. */
    @Test
    void packedBGivesTheSameBitsAsB() {
        // edge tiles in both directions, several K blocks, a parallel product and a split-K one (long K, small C)
        int[][] shapes = {{1, 7, 13}, {33, 67, 200}, {130, 100, 385}, {700, 600, 320}, {49, 640, 2560}, {8, 48, 5000}, {1, 1000, 640}, {50, 96, 2400}};
        for (int[] sh : shapes) {
            int M = sh[0], N = sh[1], K = sh[2];
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    SplittableRandom rng = new SplittableRandom(M * 31L + N * 7L + K + (transA ? 1 : 0) + (transB ? 2 : 0));
                    int lda = (transA ? M : K) + 2, ldb = (transB ? K : N) + 3, offB = 5;
                    float[] A = random(rng, (transA ? K : M) * lda), B = random(rng, offB + (transB ? N : K) * ldb), bias = random(rng, N);
                    float[] expected = new float[M * N], got = new float[M * N];
                    Gemm.Bias bv = new Gemm.Bias(bias, 0, false);
                    Gemm.sgemmBias(transA, transB, M, N, K, A, 0, lda, B, offB, ldb, bv, expected, 0, N);
                    Gemm.PackedB packed = Gemm.packB(transB, N, K, B, offB, ldb);
                    Gemm.sgemmPackedB(transA, M, A, 0, lda, packed, bv, got, 0, N);
                    assertArrayEquals(expected, got, () -> "M" + M + " N" + N + " K" + K + " transA " + transA + " transB " + transB);
                    Gemm.sgemmPackedB(transA, M, A, 0, lda, packed, null, got, 0, N);
                    Gemm.sgemm(transA, transB, M, N, K, A, 0, lda, B, offB, ldb, 0f, expected, 0, N);
                    assertArrayEquals(expected, got, () -> "no bias: M" + M + " N" + N + " K" + K);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Gemm.packB(false, 0, 4, new float[4], 0, 1));
    }

    @Test
    void zeroKScalesC() {
        float[] C = {1, 2, 3, 4};
        Gemm.sgemm(false, false, 2, 2, 0, new float[0], 0, 1, new float[0], 0, 2, 0.5f, C, 0, 2);
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2}, C);
        float[] D = {Float.NaN, 1};
        Gemm.sgemm(false, false, 1, 2, 0, new float[0], 0, 1, new float[0], 0, 2, 0f, D, 0, 2);
        assertArrayEquals(new float[] {0, 0}, D);
    }

    @Test
    void resultIsBitwiseReproducible() {
        SplittableRandom rng = new SplittableRandom(5);
        int M = 333, N = 211, K = 777;
        float[] A = random(rng, M * K), B = random(rng, K * N), C1 = new float[M * N], C2 = new float[M * N];
        Gemm.sgemm(false, true, M, N, K, A, 0, K, B, 0, K, 0f, C1, 0, N);
        Gemm.sgemm(false, true, M, N, K, A, 0, K, B, 0, K, 0f, C2, 0, N);
        assertArrayEquals(C1, C2);
        // Any row/column window of the product is computed identically (tiling does not change the arithmetic).
        float[] C3 = new float[10 * 20];
        Gemm.sgemm(false, true, 10, 20, K, A, 100 * K, K, B, 50 * K, K, 0f, C3, 0, 20);
        for (int i = 0; i < 10; i++) for (int j = 0; j < 20; j++) assertEquals(C1[(100 + i) * N + 50 + j], C3[i * 20 + j]);
    }

    @Test
    void rejectsNegativeSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, -1, 2, 2, new float[4], 0, 2, new float[4], 0, 2, 0f, new float[4], 0, 2));
        assertTrue(e.getMessage().contains("sgemm"), e.getMessage());
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (2 * rng.nextDouble() - 1);
        return x;
    }

    @org.junit.jupiter.api.Test
    void tilingTerminatesAndCoversEveryShape() {
        // Rounding a split up to the register block must terminate on thin shapes too (M=1, N=148, ...).
        for (int m = 1; m < 300; m += 3) {
            for (int n = 1; n < 700; n += 7) {
                int[] t = Gemm.tiles(m, n, 2);
                org.junit.jupiter.api.Assertions.assertTrue(t[0] >= 1 && t[1] >= 1, m + "x" + n);
            }
        }
        float[] a = new float[6272], b = new float[6272 * 148], c = new float[148];
        java.util.Arrays.fill(a, 1f);
        java.util.Arrays.fill(b, 0.5f);
        Gemm.sgemm(false, false, 1, 148, 6272, a, 0, 6272, b, 0, 148, 0f, c, 0, 148);
        org.junit.jupiter.api.Assertions.assertEquals(3136f, c[147], 1e-2f);
    }
}
