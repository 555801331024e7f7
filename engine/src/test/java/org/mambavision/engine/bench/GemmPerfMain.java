package org.mambavision.engine.bench;

import java.util.Locale;
import java.util.SplittableRandom;
import org.mambavision.engine.kernels.Gemm;

/**
 * Throwaway throughput runner for the GEMM at the flat_tiny training shapes (not a unit test): every
 * layout a Linear layer's forward, input gradient and weight gradient uses. Median of runs, GFLOP/s.
 */
public final class GemmPerfMain {
    public static void main(String[] args) {
        // {transA, transB, M, N, K}: forward X W^T, input gradient dY W, weight gradient dY^T X
        int[][] shapes = {
            {0, 1, 6272, 576, 192}, {0, 1, 6272, 768, 192}, {0, 1, 6272, 192, 768},
            {0, 0, 6272, 192, 576}, {0, 0, 6272, 192, 768},
            {1, 0, 576, 192, 6272}, {1, 0, 192, 768, 6272},
            {0, 0, 196, 32, 196}, {1, 0, 196, 32, 196}, {0, 1, 196, 196, 32},
        };
        SplittableRandom rng = new SplittableRandom(3);
        for (int[] s : shapes) {
            boolean tA = s[0] == 1, tB = s[1] == 1;
            int M = s[2], N = s[3], K = s[4];
            float[] a = random(rng, M * K), b = random(rng, K * N), c = new float[M * N];
            int lda = tA ? M : K, ldb = tB ? K : N;
            int reps = (int) Math.max(1, 2e8 / (2.0 * M * N * K));
            Runnable r = () -> {
                for (int i = 0; i < reps; i++) Gemm.sgemm(tA, tB, M, N, K, a, 0, lda, b, 0, ldb, 0f, c, 0, N);
            };
            double sec = Timing.medianSeconds(3, 1.5, 15, r) / reps;
            System.out.printf(Locale.ROOT, "%s%s %5dx%4dx%5d %7.1f GFLOP/s%n", tA ? "T" : "N", tB ? "T" : "N", M, N, K,
                    2.0 * M * N * K / sec / 1e9);
        }
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() - 0.5);
        return x;
    }
}
