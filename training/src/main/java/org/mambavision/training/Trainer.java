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
import org.mambavision.models.ModelSummary;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.ModelSpec;
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
import org.mambavision.training.optim.ParamGroups;

/**
 * The training loop: data, model, optimizer, schedule, EMA, checkpoints with exact resume, metrics,
 * TensorBoard, plots and a report, all from a {@link TrainConfig}.
 *
 * <p>Exact resume: every random draw derives from the seed and a position (epoch, sample, batch,
 * forward call), and a checkpoint stores the model, optimizer moments and step count, the EMA, the
 * drop-path call counter and the position, so a resumed run computes what the uninterrupted one would.
 */
public final class Trainer {
    public record Result(Path runDir, double bestTop1, double finalTop1, double finalTop5, double finalValLoss, int epochsDone,
                         double seconds, double imagesPerSec, long params, boolean stoppedEarly, String stopReason) {}

    private final TrainConfig cfg;
    private final Consumer<String> log;
    private final boolean interactive;
    private volatile boolean stopRequested;
    private Path runDir;

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

    public Path runDir() {
        return runDir;
    }

    /** Creates {@code save_dir/NAME-TIMESTAMP} (NAME: the run name or the model), unique. */
    static Path newRunDir(TrainConfig c) throws IOException {
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
        TrainCheckpoint.State resumeState = null;
        if (cfg.resume != null) {
            Path r = Path.of(cfg.resume);
            Path ckpt = Files.isDirectory(r) ? r.resolve(RunTracker.LAST) : r;
            if (!Files.isRegularFile(ckpt)) throw new IOException(ckpt + ": no checkpoint to resume from");
            resumeState = TrainCheckpoint.read(ckpt);
            runDir = ckpt.toAbsolutePath().getParent();
            log.accept("resuming " + runDir + " at epoch " + (Integer.parseInt(resumeState.info().getOrDefault("epoch", "0")) + 1)
                    + ", batch " + resumeState.info().get("batch"));
        } else {
            runDir = newRunDir(cfg);
        }
        Thread hook = new Thread(this::onSignal, "mv-train-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return train(resumeState, t0);
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

    private Result train(TrainCheckpoint.State resume, long t0) throws IOException {
        ModelSpec spec = new ModelSpec(cfg.model, cfg.inChans, cfg.numClasses, cfg.imgSize, (float) cfg.dropPathRate,
                cfg.layerScale == null ? null : cfg.layerScale.floatValue(), cfg.depth, (float) cfg.mambaRatio, cfg.dState, cfg.patchSize);
        VisionModel model = spec.create(cfg.seed);
        model.train(true);
        MemoryPlanner.Plan plan = MemoryPlanner.plan(model, cfg.imgSize, cfg.batchSize, cfg.accumulationSteps,
                TrainStep.shardsFor(model, cfg.dataParallel) - 1, Runtime.getRuntime().maxMemory(), log);
        int batch = plan.batchSize(), accum = plan.accumulationSteps();
        if (cfg.gradientCheckpointing) GradientCheckpointing.enable(model);
        TrainStep step = TrainStep.create(model, () -> {
            VisionModel replica = spec.create(cfg.seed);
            if (cfg.gradientCheckpointing) GradientCheckpointing.enable(replica);
            return replica;
        }, cfg.dataParallel);
        RunTracker tracker = new RunTracker(runDir, cfg, log, interactive, resume != null);
        try (TrainingData data = TrainingData.create(cfg, batch, log)) {
            if (data.train.numClasses() != model.numClasses()) {
                throw new IllegalArgumentException("num_classes is " + cfg.numClasses + " but dataset '" + cfg.dataset + "' has "
                        + data.train.numClasses() + " classes; set num_classes: " + data.train.numClasses());
            }
            if (cfg.pretrained != null && resume == null) {
                Weights.LoadReport r = Weights.load(model, Path.of(cfg.pretrained), false);
                log.accept("pretrained " + cfg.pretrained + ": " + r.describe());
            }
            Optimizer opt = Optimizers.create(cfg.optimizer, ParamGroups.of(model.namedParameters()), cfg.weightDecay, cfg.betas[0],
                    cfg.betas[1], cfg.eps, cfg.momentum, cfg.nesterov);
            int batchesPerEpoch = data.trainLoader.batchesPerEpoch();
            long stepsPerEpoch = Math.max(1, batchesPerEpoch / accum);
            LrSchedule schedule = LrSchedules.create(cfg.scheduler, cfg.lr, cfg.minLr, cfg.warmupLr, cfg.warmupEpochs * stepsPerEpoch,
                    cfg.epochs * stepsPerEpoch, cfg.stepSize * stepsPerEpoch, cfg.gamma);
            // live tensors, looked up once rather than rebuilt every step
            Map<String, Tensor> liveState = model.stateDict();
            java.util.Collection<Tensor> params = model.namedParameters().values();
            Ema ema = cfg.ema ? new Ema(liveState, cfg.emaDecay) : null;

            int startEpoch = 0, startBatch = 0;
            double best = -1;
            if (resume != null) {
                Weights.load(model, resume.model(), true);
                Map<String, float[]> os = new LinkedHashMap<>();
                resume.optimizer().forEach((k, v) -> os.put(k, v.data));
                opt.loadState(os, Long.parseLong(resume.info().get("optimizer_steps")));
                if (ema != null && resume.ema() != null) ema.load(resume.ema());
                startEpoch = Integer.parseInt(resume.info().get("epoch"));
                startBatch = Integer.parseInt(resume.info().get("batch"));
                best = Double.parseDouble(resume.info().get("best_top1"));
                model.stochasticDepth().restore(Long.parseLong(resume.info().get("sd_seed")), Long.parseLong(resume.info().get("sd_calls")));
            }
            tracker.start(model, data, spec, startEpoch);
            log.accept(String.format(Locale.ROOT, "model %s: %,d parameters; data %s: %d train / %d val images, %d classes; batch %d%s%s; %d epochs; run dir %s",
                    model.name(), model.numParams(), cfg.dataset, data.train.size(), data.val.size(), data.train.numClasses(), batch,
                    accum > 1 ? " x " + accum + " accumulation" : "",
                    step.shards(batch) > 1 ? " (data-parallel: " + step.shards(batch) + " shards)" : "", cfg.epochs, runDir));

            Evaluator.Result lastEval = null;
            double lastLr = schedule.lr(opt.stepCount());
            long imagesSeen = 0;
            double trainSeconds = 0;
            String stopReason = null;
            int epoch = startEpoch;
            for (; epoch < cfg.epochs && stopReason == null; epoch++) {
                model.train(true);
                long e0 = System.nanoTime();
                double lossSum = 0;
                long correct = 0, seen = 0;
                int[] order = data.trainLoader.order(epoch);
                int b = epoch == startEpoch ? startBatch : 0;
                if (b > 0 && resume != null) { // the interrupted part of this epoch counts towards its metrics
                    lossSum = Double.parseDouble(resume.info().getOrDefault("epoch_loss_sum", "0"));
                    correct = Long.parseLong(resume.info().getOrDefault("epoch_correct", "0"));
                    seen = Long.parseLong(resume.info().getOrDefault("epoch_seen", "0"));
                }
                tracker.progressStart("epoch " + (epoch + 1) + "/" + cfg.epochs, batchesPerEpoch, b);
                try (DataLoader.Epoch it = data.trainLoader.epoch(epoch)) {
                    for (int skip = 0; skip < b; skip++) it.next(); // resume mid-epoch: same order, same batches
                    for (; b < batchesPerEpoch; b++) {
                        DataLoader.Batch batchData = it.next();
                        if (epoch == 0 && b == 0) tracker.sampleGrid(batchData, data);
                        // The step's activations and gradients come from (and go back to) the buffer pool.
                        try (var buffers = BufferPool.open()) {
                            TrainStep.Result r = step.run(batchData.images(), batchData.labels(), batchData.softTargets(),
                                    (float) cfg.labelSmoothing, 1f / accum);
                            float lossValue = r.loss();
                            if (!Float.isFinite(lossValue)) {
                                stopReason = "the loss became " + lossValue + " at epoch " + (epoch + 1) + ", batch " + (b + 1)
                                        + "; stopped. The last good checkpoint is " + runDir.resolve(RunTracker.LAST)
                                        + " (try a lower lr or grad_clip)";
                                break; // closes the scope
                            }
                            lossSum += lossValue * batchData.size();
                            correct += r.correct();
                            seen += batchData.size();
                        }
                        if ((b + 1) % accum == 0 || b == batchesPerEpoch - 1) {
                            if (cfg.gradClip > 0) GradClip.clipGlobalNorm(params, cfg.gradClip);
                            lastLr = schedule.lr(opt.stepCount());
                            opt.step((float) lastLr);
                            opt.zeroGrad();
                            if (ema != null) ema.update(liveState);
                        }
                        double secs = (System.nanoTime() - e0) * 1e-9;
                        tracker.progressStep(String.format(Locale.ROOT, "loss %.4f acc %.3f %.1f img/s", lossSum / seen, (double) correct / seen, seen / secs));
                        if (stopRequested) {
                            tracker.progressEnd();
                            saveCheckpoint(tracker, model, opt, ema, spec, data, epoch, b + 1, best,
                                    Map.of("epoch_loss_sum", Double.toString(lossSum), "epoch_correct", Long.toString(correct), "epoch_seen", Long.toString(seen)));
                            stopReason = "interrupted; checkpoint saved at epoch " + (epoch + 1) + ", batch " + (b + 1)
                                    + ". Resume with: ./mambavision train --resume " + runDir;
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
                Evaluator.Result ev = evalNow ? Evaluator.evaluate(model, data.valLoader, model.numClasses()) : null;
                Evaluator.Result evEma = null;
                if (evalNow && ema != null) {
                    ema.swap(liveState);
                    try {
                        evEma = Evaluator.evaluate(model, data.valLoader, model.numClasses());
                    } finally {
                        ema.swap(liveState);
                    }
                }
                if (ev != null) lastEval = ev;
                boolean improved = ev != null && ev.top1() > best;
                if (improved) best = ev.top1();
                tracker.epoch(epoch + 1, seen == 0 ? Double.NaN : lossSum / seen, seen == 0 ? Double.NaN : (double) correct / seen, ev, evEma, lastLr,
                        seen / epochSecs, epochSecs, data);
                saveCheckpoint(tracker, model, opt, ema, spec, data, epoch + 1, 0, best, Map.of());
                if (improved) tracker.copyBest();
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Result result = new Result(runDir, best, lastEval == null ? Double.NaN : lastEval.top1(), lastEval == null ? Double.NaN : lastEval.top5(),
                    lastEval == null ? Double.NaN : lastEval.loss(), epoch, seconds, trainSeconds > 0 ? imagesSeen / trainSeconds : 0,
                    model.numParams(), stopReason != null, stopReason);
            tracker.finish(result, model);
            return result;
        } finally {
            tracker.close();
        }
    }

    private void saveCheckpoint(RunTracker tracker, VisionModel model, Optimizer opt, Ema ema, ModelSpec spec, TrainingData data,
                                int epoch, int batchInEpoch, double best, Map<String, String> extra) throws IOException {
        Map<String, Tensor> optState = new LinkedHashMap<>();
        opt.state().forEach((k, v) -> optState.put(k, Tensor.of(v, v.length)));
        Map<String, String> info = new LinkedHashMap<>();
        info.put("epoch", String.valueOf(epoch));
        info.put("batch", String.valueOf(batchInEpoch));
        info.put("optimizer_steps", String.valueOf(opt.stepCount()));
        info.put("best_top1", String.valueOf(best));
        info.put("sd_seed", String.valueOf(model.stochasticDepth().seed()));
        info.put("sd_calls", String.valueOf(model.stochasticDepth().calls()));
        info.put("config", ConfigLoader.toYaml(cfg));
        info.putAll(extra);
        List<String> names = new ArrayList<>(data.classNames);
        TrainCheckpoint.save(runDir.resolve(RunTracker.LAST),
                new TrainCheckpoint.State(spec, model.stateDict(), optState, ema == null ? null : ema.shadow(), names, info));
    }

    /** The architecture table of the run's model (also used for the architecture plot). */
    static ModelSummary summarize(VisionModel model, int imgSize) {
        return ModelSummary.of(model, imgSize, imgSize);
    }
}
