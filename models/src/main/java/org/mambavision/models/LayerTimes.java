package org.mambavision.models;

import java.util.ArrayList;
import java.util.List;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.bench.Timing;
import org.mambavision.models.nn.Module;
import org.mambavision.models.nn.Profiler;

/**
 * Wall time per layer of a no-grad forward pass, on the rows of {@link ModelSummary} (stem, each block,
 * each downsampling, norm, head): each row's time since the previous row, median over timed passes. Work between
 * two rows (a window partition, the pooling before the head) counts toward the later one. This is what
 * {@code bench model --layers} prints, to set our engine's parts against a profile of another runtime.
 */
public record LayerTimes(List<Layer> layers, double totalMs) {
    /** One row: median milliseconds and the row's multiply-accumulates (0 for layers that count none). */
    public record Layer(String name, int[] outputShape, long macs, double ms) {
        /** GFLOP/s of the row's multiply-accumulates (2 FLOPs each) in its median time. */
        public double gflops() {
            return ms > 0 ? 2.0 * macs / (ms * 1e6) : 0;
        }
    }

    /**
     * Runs {@code model} on {@code x} for {@code warmupSeconds} untimed, then {@code passes} profiled passes, each in a
     * buffer-pool scope as the trainer and predictor run. The model is used as it is (freeze it first to time
     * inference as {@code Predictor} runs it).
     */
    public static LayerTimes measure(VisionModel model, Tensor x, int passes, double warmupSeconds) {
        if (passes < 1) throw new IllegalArgumentException("LayerTimes: passes must be >= 1, got " + passes);
        try (var g = Tape.noGrad()) {
            Timing.warmUp(1, warmupSeconds, () -> pooled(model, x));
            List<List<Profiler.Row>> runs = new ArrayList<>(passes);
            for (int i = 0; i < passes; i++) {
                Profiler p = Profiler.start((Module) model);
                try {
                    pooled(model, x);
                } finally {
                    p.stop();
                }
                runs.add(p.rows());
            }
            List<Profiler.Row> first = runs.get(0);
            List<Layer> layers = new ArrayList<>(first.size());
            double[] totals = new double[passes];
            for (int r = 0; r < first.size(); r++) {
                double[] ms = new double[passes];
                for (int i = 0; i < passes; i++) {
                    ms[i] = runs.get(i).get(r).nanos() / 1e6;
                    totals[i] += ms[i];
                }
                Profiler.Row row = first.get(r);
                layers.add(new Layer(row.name(), row.outputShape(), row.macs(), Timing.median(ms)));
            }
            return new LayerTimes(List.copyOf(layers), Timing.median(totals));
        }
    }

    private static void pooled(VisionModel model, Tensor x) {
        try (var buffers = BufferPool.open()) {
            model.forward(x);
        }
    }
}
