package org.mambavision.engine.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.kernels.Gemm;

/**
 * Single-precision GEMM throughput against the machine's FMA peak.
 *
 * <p>Rows: {@code fma_peak} (a register-only FMA loop on every pool thread at once), then
 * {@code gemm} for the square case, the MambaVision token-by-channel shapes (forward and input
 * gradient) and the weight-gradient shapes computed as A^T B. Values in GFLOP/s, median of runs.
 */
public final class GemmBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final long PEAK_ITERATIONS = 40_000_000L;
    private static final int PEAK_ACCUMULATORS = 12;

    private GemmBench() {}

    public static List<BenchRow> rows(Consumer<BenchRow> emit) {
        List<BenchRow> rows = new ArrayList<>();
        Consumer<BenchRow> add = r -> {
            rows.add(r);
            emit.accept(r);
        };
        add.accept(new BenchRow("fma_peak", S.length() + " lanes x " + Parallel.threads() + " threads", fmaPeakGflops(), "GFLOP/s"));
        int[][] plain = {{1024, 1024, 1024}, {6272, 576, 192}, {6272, 192, 768}};
        for (int[] s : plain) add.accept(gemmRow(false, s[0], s[1], s[2]));
        int[][] weightGrad = {{192, 576, 6272}, {768, 192, 6272}};
        for (int[] s : weightGrad) add.accept(gemmRow(true, s[0], s[1], s[2]));
        return rows;
    }

    /** C (M x N) = A B, or A^T B with A stored K x M when {@code transA}. */
    private static BenchRow gemmRow(boolean transA, int M, int N, int K) {
        SplittableRandom rng = new SplittableRandom(42);
        float[] a = random(rng, M * K), b = random(rng, K * N), c = new float[M * N];
        int lda = transA ? M : K;
        double sec = Timing.medianSeconds(5, 1.5, 11, () -> Gemm.sgemm(transA, false, M, N, K, a, 0, lda, b, 0, N, 0f, c, 0, N));
        String shape = M + "x" + N + "x" + K + (transA ? " (A^T B)" : "");
        return new BenchRow("gemm", shape, 2.0 * M * N * K / sec / 1e9, "GFLOP/s");
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextDouble() - 0.5);
        return x;
    }

    /** GFLOP/s of independent register FMAs with every pool thread busy at the same time. */
    static double fmaPeakGflops() {
        int threads = Parallel.threads();
        float[] sink = new float[threads];
        // one loop pinned to each thread: all run at the same time
        double sec = Timing.medianSeconds(2, 5, () -> Parallel.onEachThread(t -> sink[t] = fmaLoop(PEAK_ITERATIONS)));
        return 2.0 * S.length() * PEAK_ITERATIONS * PEAK_ACCUMULATORS * threads / sec / 1e9;
    }

    private static float fmaLoop(long iterations) {
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        FloatVector m = FloatVector.broadcast(S, 0.999999f), c = FloatVector.broadcast(S, 1e-7f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }
}
