package org.mambavision.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.models.VisionModel;

/**
 * The forward, loss and backward of one training batch, leaving the gradients in the model's parameters.
 *
 * <p>Two ways to spread it over the cores. Kernel-parallel: the whole batch goes through the model and
 * every op splits its work over the threads. Data-parallel: the batch is cut into one shard per thread,
 * and each thread runs its shard through a replica of the model from start to end with single-threaded
 * kernels; the replicas' gradients are then summed into the model's. Data-parallel has no hand-over
 * between the threads inside the step (a small model at batch 32 has thousands of parallel regions a
 * step, each ending with a wait), so it is the faster one where it applies: models whose state is only
 * parameters. A model with buffers (BatchNorm running statistics) stays kernel-parallel, because its
 * batch statistics would become per-shard statistics.
 *
 * <p>Both give the same result up to rounding: each shard's loss is weighted by its share of the batch,
 * and drop-path masks are drawn per sample of the whole batch ({@code StochasticDepth.sampleOffset}).
 * The shards depend only on the batch size and the thread count, so a run stays exactly reproducible
 * at a fixed thread count.
 *
 * <p>A batch larger than {@link #microBatch} runs as several micro-batches in turn (sizes differing by at most
 * one, 33 at 17: 16 + 17), each one's loss weighted by its share and its activations released before the next,
 * so the gradient is that of the whole batch in the memory of a micro-batch. Drop path draws as for the whole
 * batch; BatchNorm's batch statistics become per micro-batch ({@link MemoryPlanner} says so in the log).
 */
public final class TrainStep {
    /** The summed loss and hits of one batch: {@code loss} is the mean over the batch (non-finite: no backward ran). */
    public record Result(float loss, int correct) {}

    private final VisionModel model;
    private final Tensor[] params;
    /** Replica r runs shard r + 1; replicaParams[r][k] is the replica's copy of params[k]. */
    private final List<VisionModel> replicas = new ArrayList<>();
    private final List<Tensor[]> replicaParams = new ArrayList<>();
    private int microBatch = Integer.MAX_VALUE;

    /**
     * {@code shards} shards (1: kernel-parallel); {@code replicaFactory} builds a model of the same architecture
     * and options, whose own weights are overwritten from the model's at every step.
     */
    public TrainStep(VisionModel model, Supplier<VisionModel> replicaFactory, int shards) {
        if (shards < 1) throw new IllegalArgumentException("shards " + shards + " < 1");
        if (shards > 1 && !supportsDataParallel(model)) {
            throw new IllegalArgumentException(model.name() + " has buffers (BatchNorm statistics): it cannot be trained data-parallel");
        }
        this.model = model;
        this.params = model.namedParameters().values().toArray(new Tensor[0]);
        for (int r = 1; r < shards; r++) {
            VisionModel replica = replicaFactory.get();
            if (!replica.namedParameters().keySet().equals(model.namedParameters().keySet())) {
                throw new IllegalStateException("a replica of " + model.name() + " has other parameters than the model");
            }
            replica.train(true); // a replica only ever trains
            replicas.add(replica);
            replicaParams.add(replica.namedParameters().values().toArray(new Tensor[0]));
        }
    }

    /** One shard per thread when {@code dataParallel} is asked for and the model allows it, else kernel-parallel. */
    public static TrainStep create(VisionModel model, Supplier<VisionModel> replicaFactory, boolean dataParallel) {
        return new TrainStep(model, replicaFactory, shardsFor(model, dataParallel));
    }

    /** The shard count {@link #create} picks: the thread count, or 1 (no replicas). */
    public static int shardsFor(VisionModel model, boolean dataParallel) {
        return dataParallel && supportsDataParallel(model) ? Parallel.threads() : 1;
    }

    /** True for a model whose whole state is its parameters (no running statistics to keep in step). */
    public static boolean supportsDataParallel(VisionModel model) {
        return model.stateDict().keySet().equals(model.namedParameters().keySet());
    }

    /** Runs batches larger than {@code images} as micro-batches of at most that many images (see the class comment). */
    public TrainStep microBatch(int images) {
        if (images < 1) throw new IllegalArgumentException("micro-batch of " + images + " images < 1");
        this.microBatch = images;
        return this;
    }

    /** Number of shards a batch of {@code batch} images is cut into. */
    public int shards(int batch) {
        return Math.max(1, Math.min(replicas.size() + 1, batch));
    }

    /**
     * Forward, loss (cross entropy with labels and label smoothing, or with {@code softTargets} when not
     * null) and backward with d(loss) = {@code lossScale}, accumulating into the parameters' gradients.
     * Call it inside a {@link BufferPool} scope; the model must be in training mode.
     */
    public Result run(Tensor images, int[] labels, float[] softTargets, float labelSmoothing, float lossScale) {
        return run(images, labels, softTargets, labelSmoothing, lossScale, 0);
    }

    /**
     * As {@link #run(Tensor, int[], float[], float, float)} for images that start at image {@code firstImage} of a
     * larger batch (a data-parallel process's share), so that drop path draws what it draws for those images of the
     * whole batch.
     */
    public Result run(Tensor images, int[] labels, float[] softTargets, float labelSmoothing, float lossScale, int firstImage) {
        int n = images.dim(0);
        if (n <= microBatch) {
            try {
                return runBatch(images, labels, softTargets, labelSmoothing, lossScale, firstImage);
            } finally {
                model.stochasticDepth().sampleOffset(0);
            }
        }
        int parts = (n + microBatch - 1) / microBatch, per = images.numel() / n, classes = model.numClasses();
        long seed = model.stochasticDepth().seed(), calls = model.stochasticDepth().calls();
        double loss = 0;
        int correct = 0;
        try {
            for (int p = 0; p < parts; p++) {
                int lo = start(n, parts, p), hi = start(n, parts, p + 1);
                model.stochasticDepth().restore(seed, calls); // every part belongs to the same forward call of the batch
                try (var buffers = BufferPool.open()) {
                    int[] shape = images.shape();
                    shape[0] = hi - lo;
                    Tensor x = Tensor.empty(shape);
                    System.arraycopy(images.data, lo * per, x.data, 0, (hi - lo) * per);
                    Result r = runBatch(x, Arrays.copyOfRange(labels, lo, hi),
                            softTargets == null ? null : Arrays.copyOfRange(softTargets, lo * classes, hi * classes),
                            labelSmoothing, lossScale * (hi - lo) / n, firstImage + lo);
                    if (!Float.isFinite(r.loss())) return r;
                    loss += (double) r.loss() * (hi - lo) / n;
                    correct += r.correct();
                }
            }
        } finally {
            model.stochasticDepth().sampleOffset(0);
        }
        return new Result((float) loss, correct);
    }

    /** {@link #run} on one (micro-)batch whose first image is image {@code offset} of the step's batch. */
    private Result runBatch(Tensor images, int[] labels, float[] softTargets, float labelSmoothing, float lossScale, int offset) {
        int n = images.dim(0), shards = shards(n);
        model.stochasticDepth().sampleOffset(offset);
        if (shards == 1) return shard(model, images, labels, softTargets, labelSmoothing, lossScale);
        Result[] results = new Result[shards];
        for (int s = 1; s < shards; s++) {
            VisionModel r = replicas.get(s - 1);
            r.stochasticDepth().restore(model.stochasticDepth().seed(), model.stochasticDepth().calls());
            r.stochasticDepth().sampleOffset(offset + start(n, shards, s));
        }
        // shard s on pool thread s mod threads: the shards, and so the results, do not depend on the thread count
        Parallel.onEachThread(t -> {
            for (int s = t; s < shards; s += Parallel.threads()) runShard(s, images, labels, softTargets, labelSmoothing, lossScale, results);
        });
        addReplicaGradients(shards);
        double loss = 0;
        int correct = 0;
        for (int s = 0; s < shards; s++) {
            loss += (double) results[s].loss() * (start(n, shards, s + 1) - start(n, shards, s)) / n;
            correct += results[s].correct();
        }
        return new Result((float) loss, correct);
    }

    /** Shard s: images [lo, hi) through the model (s = 0) or replica s, with the weights of the model. */
    private void runShard(int s, Tensor images, int[] labels, float[] softTargets, float labelSmoothing, float lossScale, Result[] results) {
        int n = images.dim(0), shards = results.length, per = images.numel() / n, classes = model.numClasses();
        int lo = start(n, shards, s), hi = start(n, shards, s + 1);
        VisionModel m = s == 0 ? model : replicas.get(s - 1);
        if (s > 0) {
            Tensor[] rp = replicaParams.get(s - 1);
            for (int k = 0; k < params.length; k++) {
                System.arraycopy(params[k].data, 0, rp[k].data, 0, params[k].numel());
                rp[k].requiresGrad(params[k].requiresGrad());
            }
        }
        try (var buffers = BufferPool.open()) {
            int[] shape = images.shape();
            shape[0] = hi - lo;
            Tensor x = Tensor.empty(shape);
            System.arraycopy(images.data, lo * per, x.data, 0, (hi - lo) * per);
            results[s] = shard(m, x, Arrays.copyOfRange(labels, lo, hi),
                    softTargets == null ? null : Arrays.copyOfRange(softTargets, lo * classes, hi * classes),
                    labelSmoothing, lossScale * (hi - lo) / n);
        }
    }

    private static int start(int n, int shards, int s) {
        return (int) ((long) n * s / shards);
    }

    /** One model on its images: forward, loss, and (if the loss is finite) backward scaled by {@code gradScale}. */
    private static Result shard(VisionModel m, Tensor images, int[] labels, float[] softTargets, float labelSmoothing, float gradScale) {
        Tensor logits = m.forward(images);
        Tensor loss = softTargets != null
                ? CrossEntropy.forwardSoft(logits, Tensor.of(softTargets, images.dim(0), m.numClasses()))
                : CrossEntropy.forward(logits, labels, labelSmoothing);
        float value = loss.item();
        if (!Float.isFinite(value)) {
            Tape.clear();
            return new Result(value, 0);
        }
        Tape.backward(loss, new float[] {gradScale});
        return new Result(value, Evaluator.topKHits(logits, labels, null)[0]);
    }

    /** params[k].grad += the replicas' gradients, in shard order (deterministic), then drops the replicas'. */
    private void addReplicaGradients(int shards) {
        Parallel.forEach(params.length, k -> {
            for (int s = 1; s < shards; s++) {
                Tensor rp = replicaParams.get(s - 1)[k];
                float[] g = rp.grad;
                if (g == null) continue;
                VecMath.addInto(g.length, g, 0, params[k].gradBuffer(), 0);
                rp.dropGrad();
            }
        });
    }
}
