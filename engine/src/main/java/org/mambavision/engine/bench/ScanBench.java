package org.mambavision.engine.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.SelectiveScan;

/**
 * Selective-scan throughput in state updates per second (b * d * l * n per call), at the shapes of
 * MambaVision-T levels 2 and 3 with batch 32 windows.
 */
public final class ScanBench {
    private ScanBench() {}

    private static final int[][] SHAPES = {{32, 384, 196, 16}, {32, 160, 196, 8}}; // b, d, l, n

    public static List<BenchRow> rows(Consumer<BenchRow> emit) {
        List<BenchRow> rows = new ArrayList<>();
        for (int[] s : SHAPES) {
            int b = s[0], d = s[1], l = s[2], n = s[3];
            String shape = "b" + b + " d" + d + " l" + l + " n" + n;
            double updates = (double) b * d * l * n;
            SplittableRandom rng = new SplittableRandom(42);
            Tensor u = Tensor.randn(rng, 1f, b, d, l), delta = Tensor.uniform(rng, -3f, 1f, b, d, l);
            Tensor A = Tensor.uniform(rng, -8f, -0.5f, d, n);
            Tensor B = Tensor.randn(rng, 1f, b, n, l), C = Tensor.randn(rng, 1f, b, n, l);
            Tensor D = Tensor.randn(rng, 1f, d), bias = Tensor.uniform(rng, -0.5f, 0.5f, d);
            Tensor[] inputs = {u, delta, A, B, C, D, bias};

            // Untimed warm-up of forward and backward first, so that C2 has compiled the kernels (JIT
            // compilation competes for the same two cores and takes seconds for the large scan kernels).
            for (Tensor t : inputs) t.requiresGrad(true);
            float[] dy = Tensor.randn(rng, 1f, b, d, l).data;
            for (int i = 0; i < 10; i++) {
                Tape.clear();
                Tape.backward(SelectiveScan.forward(u, delta, A, B, C, D, bias, true), dy);
                for (Tensor t : inputs) t.grad = null;
            }
            for (Tensor t : inputs) t.requiresGrad(false);

            // Each run in a buffer-pool scope, as the trainer runs a step: the output is a recycled buffer.
            double fwd = Timing.medianSeconds(3, 15, () -> {
                try (var g = Tape.noGrad(); var buffers = BufferPool.open()) {
                    SelectiveScan.forward(u, delta, A, B, C, D, bias, true);
                }
            });
            emit(rows, emit, new BenchRow("scan_forward", shape, updates / fwd, "updates/s"));

            // Backward alone: the recording forward runs before the timed region (untimed), then only
            // Tape.backward is timed, once per iteration, all seven gradients required.
            for (Tensor t : inputs) t.requiresGrad(true);
            int warmup = 2, runs = 9;
            double[] times = new double[runs];
            for (int i = 0; i < warmup + runs; i++) {
                for (Tensor t : inputs) t.grad = null;
                Tape.clear();
                try (var buffers = BufferPool.open()) {
                    // u and delta as the trainer sees them: activations from the pool, so their first
                    // gradients are pooled buffers the backward assigns (not fresh zero-filled arrays).
                    Tensor uu = pooledCopy(u), dd = pooledCopy(delta);
                    Tensor y = SelectiveScan.forward(uu, dd, A, B, C, D, bias, true);
                    long t0 = System.nanoTime();
                    Tape.backward(y, dy);
                    if (i >= warmup) times[i - warmup] = (System.nanoTime() - t0) * 1e-9;
                }
            }
            for (Tensor t : inputs) t.requiresGrad(false);
            java.util.Arrays.sort(times);
            emit(rows, emit, new BenchRow("scan_backward", shape, updates / times[runs / 2], "updates/s"));
        }
        return rows;
    }

    private static void emit(List<BenchRow> rows, Consumer<BenchRow> emit, BenchRow row) {
        rows.add(row);
        emit.accept(row);
    }

    /** Prints the rows; for a quick run from the command line. */
    public static void main(String[] args) {
        rows(r -> System.out.println(r.toText()));
    }

    /** A copy of {@code t} in a buffer from the current pool scope, needing a gradient. */
    private static Tensor pooledCopy(Tensor t) {
        Tensor c = Tensor.empty(t.shape());
        System.arraycopy(t.data, 0, c.data, 0, t.numel());
        return c.requiresGrad(true);
    }
}
