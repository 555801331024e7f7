package org.mambavision.training;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.models.VisionModel;

/**
 * Estimates a training step's memory before the run and lowers the batch size when the heap would not
 * hold it, keeping the effective batch through gradient accumulation (instead of an OutOfMemoryError
 * in the middle of an epoch).
 *
 * <p>The estimate: parameters x 4 copies (weights, gradients, two optimizer moments), x 2 more per
 * data-parallel replica (its weights and gradients), plus, per image,
 * the floats the tape records on a one-image forward times a safety factor for the activations that
 * ops keep inside their backward closures.
 */
public final class MemoryPlanner {
    /** Activations saved inside op closures are about as large again as the recorded outputs. */
    static final double CLOSURE_FACTOR = 2.5;

    public record Plan(int batchSize, int accumulationSteps, long estimatedBytes, long heapBytes) {}

    private MemoryPlanner() {}

    public static long bytesPerImage(VisionModel model, int imgSize) {
        boolean wasTraining = model.training();
        // the probe runs in train mode: keep BatchNorm statistics and drop-path draws as they were
        java.util.Map<String, float[]> saved = new java.util.HashMap<>();
        model.stateDict().forEach((k, v) -> {
            if (!model.namedParameters().containsKey(k)) saved.put(k, v.data.clone());
        });
        long sdCalls = model.stochasticDepth().calls();
        model.train(true);
        Tape.clear();
        Tensor x = Tensor.randn(new SplittableRandom(0), 1f, 2, model.inChans(), imgSize, imgSize);
        Tensor loss = CrossEntropy.forward(model.forward(x), new int[] {0, 0}, 0f);
        long floats = Tape.recordedFloats();
        Tape.clear();
        loss.grad = null;
        model.train(wasTraining);
        model.stateDict().forEach((k, v) -> {
            float[] d = saved.get(k);
            if (d != null) System.arraycopy(d, 0, v.data, 0, d.length);
        });
        model.stochasticDepth().restore(model.stochasticDepth().seed(), sdCalls);
        return (long) (floats / 2.0 * 4 * CLOSURE_FACTOR);
    }

    public static Plan plan(VisionModel model, int imgSize, int batchSize, int accumulation, int replicas, long heapBytes, Consumer<String> log) {
        long fixed = model.numParams() * 4L * (4 + 2L * replicas);
        long perImage = bytesPerImage(model, imgSize);
        long budget = (long) (heapBytes * 0.8) - fixed;
        int b = batchSize, acc = accumulation;
        while (b > 1 && (long) b * perImage > budget) {
            if (b % 2 != 0) break;
            b /= 2;
            acc *= 2;
        }
        long estimate = fixed + (long) b * perImage;
        if (b != batchSize) {
            log.accept(String.format(java.util.Locale.ROOT,
                    "memory: a batch of %d needs about %.1f GiB but the heap is %.1f GiB; using batch %d x %d accumulation steps (same effective batch)",
                    batchSize, (fixed + (double) batchSize * perImage) / (1L << 30), heapBytes / (double) (1L << 30), b, acc));
        }
        if (estimate > heapBytes * 0.95) {
            log.accept(String.format(java.util.Locale.ROOT, "warning: the step may need %.1f GiB, more than the %.1f GiB heap; set MV_HEAP or enable gradient_checkpointing",
                    estimate / (double) (1L << 30), heapBytes / (double) (1L << 30)));
        }
        return new Plan(b, acc, estimate, heapBytes);
    }
}
