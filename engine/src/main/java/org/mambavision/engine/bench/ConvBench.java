package org.mambavision.engine.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Conv2d;

/**
 * Convolution throughput: the ConvBlock conv of MambaVision-T level 0 at batch 32, in GFLOP/s of the direct
 * sum (2 x 9 x Cin multiply-adds per output). That path is Winograd F(4x4, 3x3), which does 4x fewer
 * multiply-adds, so the figure can exceed the FMA peak: it compares with a direct convolution's time.
 */
public final class ConvBench {
    /** Keep the whole benchmark well under a minute even with the reference GEMM. */
    private static final double BUDGET_SECONDS = 30;

    private ConvBench() {}

    public static List<BenchRow> rows(Consumer<BenchRow> emit) {
        List<BenchRow> rows = new ArrayList<>();
        int n = 32, c = 80, hw = 56, cout = 80;
        SplittableRandom rng = new SplittableRandom(7);
        Tensor x = Tensor.randn(rng, 1f, n, c, hw, hw);
        Tensor w = Tensor.randn(rng, 0.05f, cout, c, 3, 3);
        Tensor b = Tensor.randn(rng, 0.05f, cout);
        // In a buffer-pool scope as in a model's forward: the output is a recycled buffer, not 32 MB of fresh zeros.
        Runnable body = () -> {
            try (var g = Tape.noGrad(); var buffers = BufferPool.open()) {
                Conv2d.forward(x, w, b, 1, 1);
            }
        };
        long t0 = System.nanoTime();
        body.run(); // sizes the number of timed runs
        double first = (System.nanoTime() - t0) * 1e-9;
        int runs = (int) Math.max(1, Math.min(10, BUDGET_SECONDS / Math.max(first, 1e-3)));
        // Warm up by time as the GEMM rows do: C2 needs about a second per big vector kernel on two cores.
        double sec = Timing.medianSeconds(runs >= 5 ? 1 : 0, 1.5, runs, body);
        double flops = 2.0 * n * cout * hw * hw * c * 9;
        BenchRow row = new BenchRow("conv2d", n + "x" + c + "x" + hw + "x" + hw + " 3x3 s1 ->" + cout + " (direct-sum FLOPs)",
                flops / sec * 1e-9, "GFLOP/s");
        rows.add(row);
        emit.accept(row);
        return rows;
    }

    public static void main(String[] args) {
        rows(r -> System.out.println(r.toText()));
    }
}
