package org.mambavision.training;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.models.VisionModel;

/**
 * Estimates a training step's memory before the run and, when the heap would not hold it, runs each batch as
 * micro-batches ({@link TrainStep#microBatch}) whose gradients add up to the whole batch's, so the effective
 * batch and the gradient stay as configured. When not even one image fits, the run stops before its first step
 * with one message: the estimate, the heap, and what to change.
 *
 * <p>The estimate: parameters x 4 copies (weights, gradients, two optimizer moments), +1 with EMA, x 2 more per
 * data-parallel replica (its weights and gradients); the loader's batches (the one in use and those built ahead);
 * plus, per image of a micro-batch, the floats the tape records on a forward times a safety factor for the
 * activations that ops keep inside their backward closures. The plan keeps it under 80% of the heap.
 *
 * <p>Micro-batches rather than a smaller loader batch: any batch size splits (33 runs as 16 + 17, a prime one
 * too, where a divisor would leave batch 1), and the data order, Mixup pairs, steps per epoch and checkpoints'
 * positions are those of the configured batch, whatever heap a resume gets.
 */
public final class MemoryPlanner {
    /** Activations saved inside op closures are about as large again as the recorded outputs. */
    static final double CLOSURE_FACTOR = 2.5;
    /** Share of the heap the plan may fill: the rest is for the dataset, the JIT and fragmentation. */
    static final double USABLE = 0.8;
    private static final double GIB = 1L << 30;

    /**
     * {@code microBatch}: the most images a forward/backward runs on ({@code batchSize} when unsplit);
     * {@code estimatedBytes}: the estimate at that micro-batch.
     */
    public record Plan(int batchSize, int microBatch, long estimatedBytes, long heapBytes) {
        public int microBatches() {
            return (batchSize + microBatch - 1) / microBatch;
        }

        public boolean split() {
            return microBatch < batchSize;
        }
    }

    /** What the estimate is made of, in bytes. */
    public record Costs(long fixedBytes, long bytesPerBatchImage, long bytesPerStepImage) {
        /** Fixed part, plus {@code batch} images held by the loader, plus {@code micro} images in a forward/backward. */
        long estimate(int batch, int micro) {
            return fixedBytes + (long) batch * bytesPerBatchImage + (long) micro * bytesPerStepImage;
        }
    }

    /** Not even a micro-batch of one image fits the heap; the message says what to change. */
    public static final class DoesNotFit extends IllegalArgumentException {
        DoesNotFit(String message) {
            super(message);
        }
    }

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

    /**
     * The costs of training {@code model} on {@code imgSize} images with {@code replicas} data-parallel replicas,
     * {@code paramCopies} float copies of the parameters (4, 5 with EMA) and {@code loaderBatches} batches held by the loader.
     */
    public static Costs costs(VisionModel model, int imgSize, int replicas, int paramCopies, int loaderBatches) {
        long imageBytes = 4L * model.inChans() * imgSize * imgSize;
        return new Costs(model.numParams() * 4L * (paramCopies + 2L * replicas), imageBytes * loaderBatches,
                bytesPerImage(model, imgSize) + imageBytes);
    }

    /**
     * The largest micro-batch that keeps {@code costs} within the usable heap, as even as possible
     * ({@link Plan#microBatches} parts differing by at most one image).
     *
     * @throws DoesNotFit if one image does not fit; {@code advice} names what to change
     */
    public static Plan plan(Costs costs, int batchSize, long heapBytes, String advice) {
        long budget = (long) (heapBytes * USABLE) - costs.estimate(batchSize, 0);
        long fit = costs.bytesPerStepImage() <= 0 ? batchSize : budget / costs.bytesPerStepImage();
        if (fit < 1) {
            throw new DoesNotFit(String.format(Locale.ROOT, "memory: a training step on batch_size %d needs about %.1f GiB even one image at a time "
                    + "(%.1f GiB at once), but the Java heap is %.1f GiB (%.0f%% usable); %s", batchSize, costs.estimate(batchSize, 1) / GIB,
                    costs.estimate(batchSize, batchSize) / GIB, heapBytes / GIB, USABLE * 100, advice));
        }
        if (fit >= batchSize) return new Plan(batchSize, batchSize, costs.estimate(batchSize, batchSize), heapBytes);
        int parts = (int) ((batchSize + fit - 1) / fit), micro = (batchSize + parts - 1) / parts;
        return new Plan(batchSize, micro, costs.estimate(batchSize, micro), heapBytes);
    }

    /**
     * The plan for a run, logged when it splits the batch (and, for a model with BatchNorm, that its batch
     * statistics then come from each micro-batch).
     */
    public static Plan plan(VisionModel model, int imgSize, int batchSize, int replicas, int paramCopies, int loaderBatches,
                            boolean gradientCheckpointing, long heapBytes, Consumer<String> log) {
        Costs costs = costs(model, imgSize, replicas, paramCopies, loaderBatches);
        long needed = costs.estimate(batchSize, 1);
        String advice = "lower batch_size" + (gradientCheckpointing ? "" : ", set gradient_checkpointing: true")
                + String.format(Locale.ROOT, " or raise the heap with MV_HEAP (at least MV_HEAP=%dg)", (long) Math.ceil(needed / USABLE / GIB));
        Plan p = plan(costs, batchSize, heapBytes, advice);
        if (p.split()) {
            int small = batchSize / p.microBatches();
            log.accept(String.format(Locale.ROOT, "memory: a step on batch_size %d needs about %.1f GiB but the Java heap is %.1f GiB: each batch runs as "
                    + "%d micro-batches of %s images (about %.1f GiB), losses weighted by size, so the effective batch and the gradient are unchanged",
                    batchSize, costs.estimate(batchSize, batchSize) / GIB, heapBytes / GIB, p.microBatches(),
                    small == p.microBatch() ? Integer.toString(small) : small + "-" + p.microBatch(), p.estimatedBytes() / GIB));
            if (!TrainStep.supportsDataParallel(model)) {
                log.accept("memory: " + model.name() + " has BatchNorm: its batch statistics (and so its running statistics) come from each micro-batch "
                        + "of at most " + p.microBatch() + " images, not from the batch of " + batchSize + "; for whole-batch statistics use a batch_size "
                        + "that fits" + (gradientCheckpointing ? "" : ", gradient_checkpointing: true") + " or a larger MV_HEAP");
            }
        }
        return p;
    }
}
