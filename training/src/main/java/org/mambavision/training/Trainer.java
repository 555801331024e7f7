package org.mambavision.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.ModelSpec;
import org.mambavision.models.ModelSummary;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.DataLoader;
import org.mambavision.training.optim.Ema;
import org.mambavision.training.optim.GradClip;
import org.mambavision.training.optim.LrSchedule;
import org.mambavision.training.optim.LrSchedules;
import org.mambavision.training.optim.Optimizer;
import org.mambavision.training.optim.Optimizers;

/**
 * The training loop: data, model, optimizer, schedule, EMA, checkpoints with exact resume, metrics,
 * TensorBoard, plots and a report, all from a {@link TrainConfig}.
 *
 * <p>Exact resume: every random draw derives from the seed and a position (epoch, sample, batch,
 * forward call), and a checkpoint stores the model, optimizer moments and step count, the EMA, the
 * drop-path call counter and the position, so a resumed run computes what the uninterrupted one would.
 */
public final class Trainer {
    /** {@code stopReason}: why the run ended before its last epoch, null when it did not. */
    public record Result(Path runDir, double bestTop1, double finalTop1, double finalTop5, double finalValLoss, int epochsDone,
                         double seconds, double imagesPerSec, long params, boolean stoppedEarly, StopReason stopReason) {}

    /** Why a run stopped early; {@link #message} is the line for the user. */
    public sealed interface StopReason {
        String message();

        /** {@link #requestStop} (Ctrl-C): a checkpoint was saved after {@code batch} batches of 1-based {@code epoch}. */
        record Interrupted(int epoch, int batch, Path runDir, boolean distributed) implements StopReason {
            public String message() {
                return "interrupted; checkpoint saved at epoch " + epoch + ", batch " + batch + ". Resume with: ./mambavision "
                        + (distributed ? "spark train" : "train") + " --resume " + runDir;
            }
        }

        /** The loss of 1-based {@code epoch}, {@code batch} was {@code loss} (NaN or infinite); the step was not applied. */
        record NonFiniteLoss(float loss, int epoch, int batch, Path lastCheckpoint) implements StopReason {
            public String message() {
                return "the loss became " + loss + " at epoch " + epoch + ", batch " + batch + "; stopped. The last good checkpoint is "
                        + lastCheckpoint + " (try a lower lr or grad_clip)";
            }
        }
    }

    private final TrainConfig cfg;
    private final Consumer<String> log;
    private final boolean interactive;
    private volatile boolean stopRequested;
    private long heapBytes = Runtime.getRuntime().maxMemory();
    private Path runDir;
    private ProcessGroup group = ProcessGroup.single();
    /** The run directory a distributed run was given (null: a new one under save_dir, or the one resumed). */
    private Path sharedRunDir;

    public Trainer(TrainConfig cfg, Consumer<String> log, boolean interactive) {
        cfg.validate();
        this.cfg = cfg;
        this.log = log;
        this.interactive = interactive;
    }

    public Trainer(TrainConfig cfg) {
        this(cfg, System.out::println, System.console() != null);
    }

    /** Asks the loop to save a checkpoint and stop after the current step (Ctrl-C does this). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Plans memory for a heap of {@code bytes} instead of the JVM's (tests). */
    Trainer heapBytes(long bytes) {
        this.heapBytes = bytes;
        return this;
    }

    public Path runDir() {
        return runDir;
    }

    /**
     * Makes this trainer process {@code group.rank()} of a data-parallel run: it trains on its shard of every global
     * batch of {@code batch_size} images, the gradients are summed over the group before every optimizer step (so the
     * result is that of one process at the whole batch, up to float rounding), each process evaluates its part of the
     * validation set, and only rank 0 writes the run directory {@code runDir}. BatchNorm models take their batch
     * statistics per process, as PyTorch's DistributedDataParallel does without SyncBatchNorm, and every process gets
     * rank 0's running statistics at the end of each epoch. Every process must be able to read {@code runDir}: when it
     * holds a checkpoint, every process resumes from it (a job restarted after a failure continues from there).
     */
    public Trainer distributed(ProcessGroup group, Path runDir) {
        this.group = group;
        this.sharedRunDir = runDir;
        return this;
    }

    /** Deletes a new run's directory when the run failed before its first checkpoint (as {@link #run} does for its own). */
    public static void discardIfNoCheckpoint(Path runDir) {
        RunTracker.removeIfNoCheckpoint(runDir, line -> {});
    }

    private boolean writesRunDir() {
        return group.rank() == 0;
    }

    /** Creates {@code save_dir/NAME-TIMESTAMP} (NAME: the run name or the model), unique. */
    public static Path newRunDir(TrainConfig c) throws IOException {
        String name = c.name != null ? c.name : c.model;
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path base = Path.of(c.saveDir);
        Files.createDirectories(base);
        Path dir = base.resolve(name + "-" + stamp);
        for (int i = 2; Files.exists(dir); i++) dir = base.resolve(name + "-" + stamp + "-" + i);
        Files.createDirectories(dir);
        return dir;
    }

    public Result run() throws IOException {
        long t0 = System.nanoTime();
        Resume resume = null;
        Path resumeFrom = cfg.resume != null ? Path.of(cfg.resume)
                : sharedRunDir != null && Files.isRegularFile(sharedRunDir.resolve(RunTracker.LAST)) ? sharedRunDir : null;
        if (resumeFrom != null) {
            Path r = resumeFrom;
            Path ckpt = Files.isDirectory(r) ? r.resolve(RunTracker.LAST) : r;
            if (!Files.isRegularFile(ckpt)) throw new IOException(ckpt + ": no checkpoint to resume from");
            TrainCheckpoint.State state = TrainCheckpoint.read(ckpt);
            resume = new Resume(ckpt, state, TrainCheckpoint.Position.of(state.info(), ckpt));
            runDir = ckpt.toAbsolutePath().getParent();
            if (writesRunDir()) RunTracker.removeStrayTemporaries(runDir, log);
            log.accept("resuming " + runDir + " at epoch " + (resume.position().epoch() + 1) + ", batch " + resume.position().batch());
        } else if (sharedRunDir != null) {
            runDir = sharedRunDir;
            if (writesRunDir()) Files.createDirectories(runDir);
        } else {
            runDir = newRunDir(cfg);
        }
        Thread hook = new Thread(this::onSignal, "mv-train-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return train(resume, t0);
        } catch (IOException | RuntimeException | Error e) {
            if (resume == null && sharedRunDir == null) RunTracker.removeIfNoCheckpoint(runDir, log);
            throw e;
        } finally {
            BufferPool.trim(); // the pooled working set of the last step is not needed after the run
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // the JVM is already shutting down
            }
        }
    }

    private final CountDownLatch finished = new CountDownLatch(1);

    private void onSignal() {
        stopRequested = true;
        log.accept("interrupt: saving a checkpoint and stopping...");
        try {
            finished.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    /** The checkpoint a run resumes from, with its checked position. */
    private record Resume(Path file, TrainCheckpoint.State state, TrainCheckpoint.Position position) {}

    private Result train(Resume resume, long t0) throws IOException {
        if (cfg.numClasses == null) {
            cfg.numClasses = TrainingData.numClasses(cfg);
            log.accept("num_classes: " + cfg.numClasses + " (from dataset '" + cfg.dataset + "')");
        }
        // a frozen backbone runs in eval mode (FineTuning.trainMode): no drop path, in the replicas too
        double dropPath = FineTuning.BACKBONE.equals(cfg.freeze) ? 0 : cfg.dropPathRate;
        ModelSpec spec = new ModelSpec(cfg.model, cfg.inChans, cfg.numClasses, cfg.imgSize, (float) dropPath,
                cfg.layerScale == null ? null : cfg.layerScale.floatValue(), cfg.depth, (float) cfg.mambaRatio, cfg.dState, cfg.patchSize);
        VisionModel model = spec.create(cfg.seed);
        FineTuning.freeze(model, cfg.freeze);
        FineTuning.trainMode(model, cfg.freeze);
        if (cfg.gradientCheckpointing) GradientCheckpointing.enable(model); // before planning: it lowers the estimate
        // the loader holds the batches built ahead (prefetch, as TrainingData sets it) and the one in use
        // a process of a distributed run holds its share of the batch
        int processBatch = (cfg.batchSize + group.size() - 1) / group.size();
        MemoryPlanner.Plan plan = MemoryPlanner.plan(model, cfg.imgSize, processBatch, TrainStep.shardsFor(model, cfg.dataParallel) - 1,
                cfg.ema ? 5 : 4, Math.max(2, cfg.numWorkers) + 1, cfg.gradientCheckpointing, heapBytes, log);
        int batch = cfg.batchSize, accum = cfg.accumulationSteps;
        TrainStep step = TrainStep.create(model, () -> {
            VisionModel replica = spec.create(cfg.seed);
            if (cfg.gradientCheckpointing) GradientCheckpointing.enable(replica);
            return replica;
        }, cfg.dataParallel).microBatch(plan.microBatch());
        RunTracker tracker = new RunTracker(runDir, cfg, log, interactive, resume != null, writesRunDir());
        try (TrainingData data = TrainingData.create(cfg, batch, plan.microBatch(), group.rank(), group.size(), log)) {
            if (Math.min(batch, data.train.size()) < group.size()) {
                throw new IllegalArgumentException("batch_size " + batch + " with " + data.train.size() + " training images leaves some of the "
                        + group.size() + " processes without images; use a batch_size of at least " + group.size());
            }
            if (data.train.numClasses() != model.numClasses()) {
                throw new IllegalArgumentException("num_classes is " + cfg.numClasses + " but dataset '" + cfg.dataset + "' has "
                        + data.train.numClasses() + " classes; set num_classes: " + data.train.numClasses());
            }
            if (cfg.pretrained != null && resume == null) {
                Weights.LoadReport r = FineTuning.loadPretrained(model, Path.of(cfg.pretrained), cfg.pretrainedStrict);
                log.accept("pretrained " + cfg.pretrained + ": " + r.describe());
            }
            Optimizer opt = Optimizers.create(cfg.optimizer, FineTuning.paramGroups(model, cfg, log), cfg.weightDecay, cfg.betas[0],
                    cfg.betas[1], cfg.eps, cfg.momentum, cfg.nesterov);
            int batchesPerEpoch = data.trainLoader.batchesPerEpoch();
            long stepsPerEpoch = Math.max(1, batchesPerEpoch / accum);
            LrSchedule schedule = LrSchedules.create(cfg.scheduler, cfg.lr, cfg.minLr, cfg.warmupLr, cfg.warmupEpochs * stepsPerEpoch,
                    cfg.epochs * stepsPerEpoch, cfg.stepSize * stepsPerEpoch, cfg.gamma);
            // live tensors, looked up once rather than rebuilt every step
            Map<String, Tensor> liveState = model.stateDict();
            java.util.Collection<Tensor> params = model.namedParameters().values();
            Ema ema = cfg.ema ? new Ema(liveState, cfg.emaDecay) : null;
            GradientSync sync = group.size() > 1 ? new GradientSync(group, params) : null;

            int startEpoch = 0, startBatch = 0;
            double best = -1, bestLoss = Double.POSITIVE_INFINITY;
            if (resume != null) {
                TrainCheckpoint.State state = resume.state();
                TrainCheckpoint.Position pos = resume.position();
                Weights.load(model, state.model(), true);
                Map<String, float[]> os = new LinkedHashMap<>();
                state.optimizer().forEach((k, v) -> os.put(k, v.data));
                opt.loadState(os, pos.optimizerSteps());
                if (ema != null && state.ema() != null) ema.load(state.ema());
                startEpoch = pos.epoch();
                startBatch = resumeBatch(resume, batchesPerEpoch);
                best = pos.bestTop1();
                bestLoss = pos.bestValLoss();
                model.stochasticDepth().restore(pos.dropPathSeed(), pos.dropPathCalls());
            }
            if (sync != null) sync.agree(opt.stepCount(), "optimizer step");
            tracker.start(model, data, spec, startEpoch);
            log.accept(String.format(Locale.ROOT, "model %s: %,d parameters; data %s: %d train / %d val images, %d classes; batch %d%s%s; %d epochs; run dir %s",
                    model.name(), model.numParams(), cfg.dataset, data.train.size(), data.val.size(), data.train.numClasses(), batch,
                    (accum > 1 ? " x " + accum + " accumulation" : "") + (plan.split() ? " (" + plan.microBatches() + " micro-batches)" : ""),
                    (step.shards(plan.microBatch()) > 1 ? " (data-parallel: " + step.shards(plan.microBatch()) + " shards)" : "")
                            + (sync != null ? " over " + group.size() + " processes (this one: rank " + group.rank() + ")" : ""), cfg.epochs, runDir));

            Evaluator.Result lastEval = null;
            double lastLr = schedule.lr(opt.stepCount());
            long imagesSeen = 0;
            double trainSeconds = 0;
            StopReason stopReason = null;
            int epoch = startEpoch;
            for (; epoch < cfg.epochs && stopReason == null; epoch++) {
                FineTuning.trainMode(model, cfg.freeze);
                long e0 = System.nanoTime();
                double lossSum = 0;
                long correct = 0, seen = 0;
                int[] order = data.trainLoader.order(epoch);
                int b = epoch == startEpoch ? startBatch : 0;
                if (b > 0 && resume != null) { // the interrupted part of this epoch counts towards its metrics
                    lossSum = resume.position().epochLossSum();
                    correct = resume.position().epochCorrect();
                    seen = resume.position().epochSeen();
                }
                tracker.progressStart("epoch " + (epoch + 1) + "/" + cfg.epochs, batchesPerEpoch, b);
                try (DataLoader.Epoch it = data.trainLoader.epoch(epoch)) {
                    for (int skip = 0; skip < b; skip++) it.next(); // resume mid-epoch: same order, same batches
                    for (; b < batchesPerEpoch; b++) {
                        DataLoader.Batch batchData = it.next();
                        if (epoch == 0 && b == 0) tracker.sampleGrid(batchData, data);
                        boolean stepped = (b + 1) % accum == 0 || b == batchesPerEpoch - 1, stop = stopRequested;
                        int images = data.trainLoader.globalBatchSize(b); // of all processes
                        // The step's activations and gradients come from (and go back to) the buffer pool.
                        try (var buffers = BufferPool.open()) {
                            // a process's share of the mean over the whole batch
                            float scale = sync == null ? 1f / accum : 1f / accum * batchData.size() / images;
                            TrainStep.Result r = step.run(batchData.images(), batchData.labels(), batchData.softTargets(),
                                    (float) cfg.labelSmoothing, scale, data.trainLoader.shardOffset(b));
                            float lossValue = r.loss();
                            long hits = r.correct();
                            if (sync != null) { // the group's loss and hits, and before an optimizer step the group's gradient
                                GradientSync.Totals t = sync.reduce((double) r.loss() * batchData.size(), r.correct(), stopRequested, stepped);
                                lossValue = (float) (t.lossSum() / images);
                                hits = t.correct();
                                stop = t.stop();
                            }
                            if (!Float.isFinite(lossValue)) {
                                stopReason = new StopReason.NonFiniteLoss(lossValue, epoch + 1, b + 1, runDir.resolve(RunTracker.LAST));
                                break; // closes the scope
                            }
                            lossSum += lossValue * images;
                            tracker.batchLoss(lossValue);
                            correct += hits;
                            seen += images;
                        }
                        if (stepped) {
                            if (cfg.gradClip > 0) GradClip.clipGlobalNorm(params, cfg.gradClip);
                            lastLr = schedule.lr(opt.stepCount());
                            opt.step((float) lastLr);
                            opt.zeroGrad();
                            tracker.optimizerStep(opt.stepCount(), lastLr);
                            if (ema != null) ema.update(liveState);
                        }
                        double secs = (System.nanoTime() - e0) * 1e-9;
                        tracker.progressStep(String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f img/s", lossSum / seen, (double) correct / seen, seen / secs));
                        // only after an optimizer step: gradients accumulated over part of a step are not checkpointed
                        if (stop && stepped) {
                            tracker.progressEnd();
                            saveCheckpoint(model, opt, ema, spec, data, new TrainCheckpoint.Position(epoch, b + 1, cfg.batchSize, opt.stepCount(),
                                    best, bestLoss, model.stochasticDepth().seed(), model.stochasticDepth().calls(), lossSum, correct, seen));
                            stopReason = new StopReason.Interrupted(epoch + 1, b + 1, runDir, sharedRunDir != null);
                            break;
                        }
                    }
                }
                tracker.progressEnd();
                if (stopReason != null) break;
                double epochSecs = (System.nanoTime() - e0) * 1e-9;
                trainSeconds += epochSecs;
                imagesSeen += seen;
                boolean evalNow = (epoch + 1) % cfg.evalEvery == 0 || epoch == cfg.epochs - 1;
                // every process takes rank 0's running statistics, so the processes evaluate (and go on with) one model
                if (sync != null) sync.broadcastFromRankZero(buffers(model));
                Evaluator.Result ev = evalNow ? evaluate(model, data, sync) : null;
                Evaluator.Result evEma = null;
                if (evalNow && ema != null) {
                    ema.swap(liveState);
                    try {
                        evEma = evaluate(model, data, sync);
                    } finally {
                        ema.swap(liveState);
                    }
                }
                if (ev != null) lastEval = ev;
                // ties in top-1 (common on small validation sets) go to the lower validation loss
                boolean improved = ev != null && (ev.top1() > best || ev.top1() == best && ev.loss() < bestLoss);
                if (improved) {
                    best = ev.top1();
                    bestLoss = ev.loss();
                }
                tracker.epoch(epoch + 1, seen == 0 ? Double.NaN : lossSum / seen, seen == 0 ? Double.NaN : (double) correct / seen, ev, evEma, lastLr,
                        seen / epochSecs, epochSecs, data);
                tracker.reportSkipped(data);
                saveCheckpoint(model, opt, ema, spec, data, new TrainCheckpoint.Position(epoch + 1, 0, cfg.batchSize, opt.stepCount(), best, bestLoss,
                        model.stochasticDepth().seed(), model.stochasticDepth().calls(), 0, 0, 0));
                if (improved) tracker.copyBest();
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Result result = new Result(runDir, best, lastEval == null ? Double.NaN : lastEval.top1(), lastEval == null ? Double.NaN : lastEval.top5(),
                    lastEval == null ? Double.NaN : lastEval.loss(), epoch, seconds, trainSeconds > 0 ? imagesSeen / trainSeconds : 0,
                    model.numParams(), stopReason != null, stopReason);
            tracker.finish(result, model, data);
            return result;
        } finally {
            tracker.close();
        }
    }

    /** The validation result; in a distributed run, of every process's part of the validation set together. */
    private static Evaluator.Result evaluate(VisionModel model, TrainingData data, GradientSync sync) {
        Evaluator.Result r = Evaluator.evaluate(model, data.valLoader, model.numClasses());
        return sync == null ? r : sync.combine(r);
    }

    /** The model's state that is not parameters (BatchNorm running statistics), in a fixed order. */
    private static List<Tensor> buffers(VisionModel model) {
        List<Tensor> b = new ArrayList<>();
        Map<String, Tensor> params = model.namedParameters();
        model.stateDict().forEach((k, v) -> {
            if (!params.containsKey(k)) b.add(v);
        });
        return b;
    }

    /**
     * The loader batch to continue the checkpoint's epoch at. A changed batch_size continues after the same
     * images of the epoch's order when the new size divides their count; otherwise it is a clear error.
     */
    private int resumeBatch(Resume resume, int batchesPerEpoch) {
        TrainCheckpoint.Position pos = resume.position();
        if (pos.batch() == 0) return 0;
        int batch = pos.batch();
        if (pos.batchSize() > 0 && pos.batchSize() != cfg.batchSize) {
            long images = pos.epochSeen();
            if (images % cfg.batchSize != 0) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "%s stopped epoch %d after %d images with batch_size %d; batch_size %d "
                        + "does not divide %d, so the epoch cannot continue where it stopped: resume with batch_size %d (or a divisor of %d)",
                        resume.file(), pos.epoch() + 1, images, pos.batchSize(), cfg.batchSize, images, pos.batchSize(), images));
            }
            batch = (int) (images / cfg.batchSize);
            log.accept(String.format(Locale.ROOT, "batch_size %d (the checkpoint's: %d): epoch %d continues after its first %d images, "
                    + "in the same order; not an exact continuation of the original run", cfg.batchSize, pos.batchSize(), pos.epoch() + 1, images));
        }
        if (batch > batchesPerEpoch) {
            throw new IllegalArgumentException(resume.file() + " stopped after batch " + pos.batch() + " of epoch " + (pos.epoch() + 1)
                    + ", but an epoch of this config has only " + batchesPerEpoch + " batches; resume with the run's own dataset_size and batch_size");
        }
        return batch;
    }

    private void saveCheckpoint(VisionModel model, Optimizer opt, Ema ema, ModelSpec spec, TrainingData data,
                                TrainCheckpoint.Position position) throws IOException {
        if (!writesRunDir()) return;
        Map<String, Tensor> optState = new LinkedHashMap<>();
        opt.state().forEach((k, v) -> optState.put(k, Tensor.of(v, v.length)));
        Map<String, String> info = new LinkedHashMap<>(position.toInfo());
        info.put("config", ConfigLoader.toYaml(cfg));
        List<String> names = new ArrayList<>(data.classNames);
        TrainCheckpoint.save(runDir.resolve(RunTracker.LAST),
                new TrainCheckpoint.State(spec, model.stateDict(), optState, ema == null ? null : ema.shadow(), names, info,
                        TrainingData.evalPreprocessing(cfg)));
    }

    /** The architecture table of the run's model (also used for the architecture plot). */
    static ModelSummary summarize(VisionModel model, int imgSize) {
        return ModelSummary.of(model, imgSize, imgSize);
    }
}
