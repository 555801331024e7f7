package org.mambavision.cli;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.bench.BenchRow;
import org.mambavision.engine.bench.Timing;
import org.mambavision.models.LayerTimes;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.training.TrainStep;
import org.mambavision.training.optim.AdamW;
import org.mambavision.training.optim.Optimizer;
import org.mambavision.training.optim.ParamGroups;

/** {@code bench model}: inference images/s at a batch, batch-1 latency, and optionally training images/s. */
final class ModelBenchmarks {
    private ModelBenchmarks() {}

    /**
     * Our engine's rows; with {@code layers}, our time per layer at the batch; with {@code onnxRuntime}, ONNX Runtime's
     * rows on the exported model beside each, and their ratios.
     */
    static void run(String name, int batch, String imgSize, int runs, boolean train, boolean layers, boolean onnxRuntime, Consumer<BenchRow> emit)
            throws java.io.IOException {
        if (batch < 1) throw new UserError("--batch must be >= 1");
        VisionModel m = ModelRegistry.create(name);
        ImageSize s = ImageSize.parse(imgSize, m.defaultImgSize());
        String shape = m.name() + " b" + batch + " " + s.height() + "x" + s.width();
        String shape1 = m.name() + " b1 " + s.height() + "x" + s.width();
        SplittableRandom rng = new SplittableRandom(7);
        Tensor x = Tensor.randn(rng, 1f, batch, m.inChans(), s.height(), s.width());
        Tensor x1 = Tensor.randn(rng, 1f, 1, m.inChans(), s.height(), s.width());
        m.freezeForInference(); // as Predictor and infer run it
        OnnxRuntimeSession ort = onnxRuntime ? new OnnxRuntimeSession(m, s.height(), s.width(), Parallel.threads()) : null;
        try (var g = Tape.noGrad(); OnnxRuntimeSession closed = ort) {
            // Batch 1 compiles paths of its own (products of 49 rows, split K), and one run is ~50 ms: warm up
            // for 4 s and take the median of 40 runs, not of 5 within a quarter of a second.
            int runs1 = Math.max(runs, 40);
            if (ort == null) {
                double t = Timing.medianSeconds(2, 5.0, runs, () -> pooled(() -> m.forward(x)));
                emit.accept(new BenchRow("model_infer", shape, batch / t, "images/s"));
                double t1 = Timing.medianSeconds(3, 4.0, runs1, () -> pooled(() -> m.forward(x1)));
                emit.accept(new BenchRow("model_latency", shape1, t1 * 1e3, "ms"));
            } else {
                // Each runtime is timed in blocks of its own (alternating single runs let the threads of the runtime
                // that just ran, spinning while idle, take the vCPUs of the other), in ORT_ROUNDS alternating rounds:
                // a shared host's slow phases last minutes, and one block each would hand a whole phase to one side.
                double[] t = new double[ORT_ROUNDS], tOrt = new double[ORT_ROUNDS], t1 = new double[ORT_ROUNDS], t1Ort = new double[ORT_ROUNDS];
                for (int r = 0; r < ORT_ROUNDS; r++) {
                    double warm = r == 0 ? 5.0 : 1.0, warm1 = r == 0 ? 4.0 : 1.0;
                    t[r] = Timing.medianSeconds(2, warm, runs, () -> pooled(() -> m.forward(x)));
                    tOrt[r] = Timing.medianSeconds(2, warm, runs, () -> ort.run(x));
                    t1[r] = Timing.medianSeconds(3, warm1, runs1, () -> pooled(() -> m.forward(x1)));
                    t1Ort[r] = Timing.medianSeconds(3, warm1, runs1, () -> ort.run(x1));
                }
                emit.accept(new BenchRow("model_infer", shape, batch / Timing.median(t), "images/s"));
                emit.accept(new BenchRow("ort_infer", shape, batch / Timing.median(tOrt), "images/s"));
                emit.accept(new BenchRow("model_latency", shape1, Timing.median(t1) * 1e3, "ms"));
                emit.accept(new BenchRow("ort_latency", shape1, Timing.median(t1Ort) * 1e3, "ms"));
                double[] ratio = new double[ORT_ROUNDS], ratio1 = new double[ORT_ROUNDS];
                for (int r = 0; r < ORT_ROUNDS; r++) {
                    ratio[r] = tOrt[r] / t[r];
                    ratio1[r] = t1Ort[r] / t1[r];
                }
                // the median of the rounds' ratios: each round's two blocks ran minutes apart at most
                emit.accept(new BenchRow("ratio_infer", shape + " ours/ort, median of " + ORT_ROUNDS + " rounds " + range(ratio), Timing.median(ratio), "x"));
                emit.accept(new BenchRow("ratio_latency", shape1 + " ort/ours, median of " + ORT_ROUNDS + " rounds " + range(ratio1), Timing.median(ratio1), "x"));
            }
            if (layers) layerRows(m, x, shape, Math.max(runs, 20), onnxRuntime, s, emit);
        }
        if (train) {
            m.train(true);
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(m.numClasses());
            Optimizer opt = new AdamW(ParamGroups.of(m.namedParameters()), 0.9, 0.999, 1e-8, 0.05);
            // the trainer's step: data-parallel where the model allows it
            TrainStep step = TrainStep.create(m, () -> ModelRegistry.create(name), true);
            double t = Timing.medianSeconds(2, 10.0, runs, () -> pooled(() -> {
                opt.zeroGrad();
                step.run(x, labels, null, 0.1f, 1f);
                opt.step(1e-4f);
            }));
            String mode = step.shards(batch) > 1 ? " data-parallel x" + step.shards(batch) : "";
            emit.accept(new BenchRow("model_train", shape + " adamw" + mode, batch / t, "images/s"));
        }
    }

    /**
     * Our time per layer (see {@link LayerTimes}); with {@code onnxRuntime}, beside each layer ONNX Runtime's time for the
     * nodes the export named after it, from its profiler (which adds its own per-node cost), and after them the node
     * groups named otherwise.
     */
    private static void layerRows(VisionModel m, Tensor x, String shape, int passes, boolean onnxRuntime, ImageSize s,
                                  Consumer<BenchRow> emit) throws java.io.IOException {
        LayerTimes ours = LayerTimes.measure(m, x, passes, 2.0);
        Set<String> names = new java.util.HashSet<>();
        for (LayerTimes.Layer l : ours.layers()) names.add(l.name());
        Map<String, Double> ort = Map.of();
        if (onnxRuntime) {
            try (OnnxRuntimeSession profiled = new OnnxRuntimeSession(m, s.height(), s.width(), Parallel.threads(), true)) {
                Timing.warmUp(1, 2.0, () -> profiled.run(x));
                for (int i = 0; i < passes; i++) profiled.run(x);
                ort = profiled.layerMillis(passes, names);
            }
        }
        for (LayerTimes.Layer l : ours.layers()) {
            String gflops = l.macs() > 0 ? String.format(Locale.ROOT, " %.0f GFLOP/s", l.gflops()) : "";
            emit.accept(new BenchRow("layer", shape + " " + l.name() + gflops, l.ms(), "ms"));
            if (onnxRuntime) emit.accept(new BenchRow("ort_layer", shape + " " + l.name() + " (profiled)", ort.getOrDefault(l.name(), 0.0), "ms"));
        }
        emit.accept(new BenchRow("layers_total", shape + " (median of the passes' sums)", ours.totalMs(), "ms"));
        if (onnxRuntime) {
            double total = ort.values().stream().mapToDouble(Double::doubleValue).sum();
            for (Map.Entry<String, Double> e : ort.entrySet()) {
                if (!names.contains(e.getKey())) emit.accept(new BenchRow("ort_layer", shape + " " + e.getKey() + " (profiled)", e.getValue(), "ms"));
            }
            emit.accept(new BenchRow("ort_layers_total", shape + " (profiled: the nodes' kernel times per run)", total, "ms"));
        }
    }

    /** Alternating rounds of the two runtimes' blocks in {@code bench model --runtime onnxruntime}. */
    static final int ORT_ROUNDS = 3;

    /** "[lo-hi]" of the rounds' values, two decimals. */
    private static String range(double[] v) {
        double lo = java.util.Arrays.stream(v).min().orElse(0), hi = java.util.Arrays.stream(v).max().orElse(0);
        return String.format(java.util.Locale.ROOT, "[%.2f-%.2f]", lo, hi);
    }

    /** Runs {@code body} in a buffer-pool scope, as the trainer and evaluator do: steady state reuses buffers. */
    private static void pooled(Runnable body) {
        try (var buffers = BufferPool.open()) {
            body.run();
        }
    }
}
