package org.mambavision.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.mambavision.engine.io.AtomicFiles;
import org.mambavision.inference.ModelSpec;
import org.mambavision.models.ModelSummary;
import org.mambavision.models.VisionModel;
import org.mambavision.models.nn.Profiler;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.DataLoader;
import org.mambavision.training.data.Dataset;
import org.mambavision.training.track.Guard;
import org.mambavision.training.track.MetricsLog;
import org.mambavision.training.track.Plots;
import org.mambavision.training.track.Progress;
import org.mambavision.training.track.Report;
import org.mambavision.training.track.TensorBoardWriter;

/**
 * Everything a run writes besides checkpoints' contents: config.yaml, metrics (jsonl, csv), TensorBoard
 * events, plots, report.html, progress bars and log lines. A failure here is a warning, never a stop.
 */
final class RunTracker implements AutoCloseable {
    static final String LAST = "last.safetensors", BEST = "best.safetensors";

    private final Path runDir;
    private final TrainConfig cfg;
    private final Consumer<String> log, warn;
    private final Progress progress;
    private final boolean resumed;
    /** False on the data-parallel processes other than rank 0: they log, and write nothing. */
    private final boolean writes;
    private MetricsLog metrics;
    private TensorBoardWriter tb;
    private List<String> classNames = List.of();
    /** Unreadable images already named in the log (train and val may share a base dataset, so its list). */
    private final java.util.Set<String> skippedImages = new java.util.LinkedHashSet<>();

    RunTracker(Path runDir, TrainConfig cfg, Consumer<String> log, boolean interactive, boolean resumed, boolean writes) {
        this.writes = writes;
        this.runDir = runDir;
        this.cfg = cfg;
        this.log = log;
        this.warn = m -> log.accept("warning: " + m);
        this.progress = new Progress(interactive, log);
        this.resumed = resumed;
    }

    void start(VisionModel model, TrainingData data, ModelSpec spec, int startEpoch) {
        classNames = data.classNames;
        if (!writes) return;
        Guard.run(warn, "writing config.yaml", () -> ConfigLoader.writeYaml(cfg, runDir.resolve("config.yaml")));
        reportSkipped(data);
        metrics = resumed && hasMetrics(startEpoch) ? MetricsLog.resume(runDir, startEpoch, warn) : new MetricsLog(runDir, warn);
        if (cfg.tensorboard) tb = TensorBoardWriter.open(runDir, warn);
        if (cfg.visualize && !resumed) {
            Guard.run(warn, "architecture plot", () -> {
                ModelSummary s = ModelSummary.of(model, cfg.imgSize, cfg.imgSize);
                List<Plots.LayerRow> rows = new ArrayList<>();
                for (Profiler.Row r : s.rows()) rows.add(new Plots.LayerRow(r.name(), java.util.Arrays.toString(r.outputShape()), r.params()));
                Plots.architecture(rows, runDir.resolve("architecture.png"));
            });
        }
    }

    /**
     * Whether a resumed run should find metrics: none are written before the first epoch ends, so a run
     * interrupted in its first epoch has none (no warning); a later one without them is warned about.
     */
    private boolean hasMetrics(int startEpoch) {
        boolean present = Files.exists(runDir.resolve(MetricsLog.JSONL)) || Files.exists(runDir.resolve(MetricsLog.CSV));
        if (!present && startEpoch > 0) {
            warn.accept("no " + MetricsLog.JSONL + " or " + MetricsLog.CSV + " in " + runDir + ": the metrics of epochs 1-" + startEpoch
                    + " are lost; the files restart at epoch " + (startEpoch + 1));
        }
        return present;
    }

    /** Names in the log each unreadable image of the run's datasets not named before (images are decoded as batches are built). */
    void reportSkipped(TrainingData data) {
        int before = skippedImages.size();
        for (Dataset d : List.of(data.train, data.val)) {
            for (String entry : d.skipped()) {
                if (skippedImages.add(entry)) log.accept("skipped unreadable image: " + entry);
            }
        }
        if (skippedImages.size() > before) {
            log.accept(skippedImages.size() + " unreadable image(s) skipped so far");
        }
    }

    void sampleGrid(DataLoader.Batch b, TrainingData data) {
        if (!cfg.visualize || resumed || !writes) return;
        Guard.run(warn, "sample grid", () -> {
            int n = Math.min(16, b.size());
            String[] labels = new String[n];
            for (int i = 0; i < n; i++) {
                int y = b.labels()[i];
                labels[i] = y < classNames.size() ? classNames.get(y) : String.valueOf(y);
            }
            int[] s = b.images().shape();
            Plots.sampleGrid(b.images().data, n, s[1], s[2], s[3], data.mean, data.std, labels, runDir.resolve("samples.png"));
        });
    }

    void progressStart(String task, long total, long already) {
        progress.start(task, total);
        if (already > 0) progress.step(already, null);
    }

    void progressStep(String extra) {
        progress.step(1, extra);
    }

    void progressEnd() {
        progress.close();
    }

    void epoch(int epoch, double trainLoss, double trainTop1, Evaluator.Result ev, Evaluator.Result evEma, double lr, double imgPerSec,
               double secs, TrainingData data) {
        double vl = ev == null ? Double.NaN : ev.loss(), v1 = ev == null ? Double.NaN : ev.top1(), v5 = ev == null ? Double.NaN : ev.top5();
        Map<String, Object> extra = new LinkedHashMap<>();
        if (evEma != null) {
            extra.put("ema_val_loss", evEma.loss());
            extra.put("ema_val_top1", evEma.top1());
            extra.put("ema_val_top5", evEma.top5());
        }
        log.accept(String.format(Locale.ROOT, "epoch %d/%d  train loss %.4f acc %.4f | val loss %.4f top1 %.4f top5 %.4f%s | lr %.2e | %.1f img/s | %.1f s",
                epoch, cfg.epochs, trainLoss, trainTop1, vl, v1, v5,
                evEma == null ? "" : String.format(Locale.ROOT, " (EMA top1 %.4f)", evEma.top1()), lr, imgPerSec, secs));
        if (!writes) return;
        metrics.log(new MetricsLog.EpochMetrics(epoch, trainLoss, trainTop1, vl, v1, v5, lr, imgPerSec, secs, extra));
        if (tb != null) {
            tb.addScalar("train/loss", (float) trainLoss, epoch);
            tb.addScalar("train/top1", (float) trainTop1, epoch);
            if (ev != null) {
                tb.addScalar("val/loss", (float) vl, epoch);
                tb.addScalar("val/top1", (float) v1, epoch);
                tb.addScalar("val/top5", (float) v5, epoch);
            }
            if (evEma != null) tb.addScalar("val/ema_top1", (float) evEma.top1(), epoch);
            tb.addScalar("lr", (float) lr, epoch);
            tb.addScalar("images_per_sec", (float) imgPerSec, epoch);
            tb.flush();
        }
        if (cfg.visualize) {
            Guard.run(warn, "training curves", () -> Plots.trainingCurves(metrics.rows(), runDir.resolve("curves.png"),
                    Plots.trainLossNote(cfg.labelSmoothing, cfg.mixup, cfg.cutmix)));
            if (ev != null) Guard.run(warn, "confusion matrix", () -> Plots.confusionMatrix(ev.confusion(), classNames, runDir.resolve("confusion.png")));
        }
        writeReport(null);
    }

    private double windowLoss;
    private int windowBatches;

    /** A training batch's loss, for the per-step scalars. */
    void batchLoss(double loss) {
        windowLoss += loss;
        windowBatches++;
    }

    /** After optimizer step {@code step}: every log_every steps, TensorBoard gets the mean batch loss since the last such point and the lr. */
    void optimizerStep(long step, double lr) {
        if (tb == null || cfg.logEvery <= 0 || step % cfg.logEvery != 0 || windowBatches == 0) return;
        tb.addScalar("train_step/loss", (float) (windowLoss / windowBatches), step);
        tb.addScalar("train_step/lr", (float) lr, step);
        tb.flush();
        windowLoss = 0;
        windowBatches = 0;
    }

    /** best.safetensors := last.safetensors, atomically. */
    void copyBest() throws IOException {
        if (writes) AtomicFiles.copy(runDir.resolve(LAST), runDir.resolve(BEST));
    }

    void finish(Trainer.Result r, VisionModel model, TrainingData data) {
        reportSkipped(data);
        if (!writes) return;
        Map<String, Object> s = summary(r, model);
        writeReport(s);
        log.accept("");
        log.accept(r.stopReason() != null ? "Training stopped: " + r.stopReason().message() : "Training finished.");
        s.forEach((k, v) -> log.accept(String.format(Locale.ROOT, "  %-18s %s", k, v)));
    }

    private Map<String, Object> summary(Trainer.Result r, VisionModel model) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", runDir.getFileName().toString());
        s.put("model", model.name());
        s.put("parameters", String.format(Locale.ROOT, "%,d", r.params()));
        s.put("dataset", cfg.dataset);
        s.put("epochs", r.epochsDone() + " / " + cfg.epochs);
        s.put("best val top1", fmt(r.bestTop1()));
        s.put("final val top1", fmt(r.finalTop1()));
        s.put("final val top5", fmt(r.finalTop5()));
        s.put("skipped images", skippedImages.size());
        s.put("time", String.format(Locale.ROOT, "%.1f s", r.seconds()));
        s.put("train images/s", String.format(Locale.ROOT, "%.1f", r.imagesPerSec()));
        s.put("run dir", runDir.toAbsolutePath().toString());
        // only files the run has written: an interrupted or failed run may lack some
        s.put("checkpoints", existing(LAST, BEST));
        s.put("plots", existing("curves.png", "samples.png", "confusion.png", "architecture.png"));
        s.put("report", runDir.resolve(Report.FILE).toAbsolutePath().toString());
        return s;
    }

    private String existing(String... files) {
        List<String> present = new ArrayList<>();
        for (String f : files) if (Files.isRegularFile(runDir.resolve(f))) present.add(f);
        return present.isEmpty() ? "none" : String.join(", ", present);
    }

    /**
     * Deletes the temporary files ({@code .NAME.*.tmp}, see {@code AtomicFiles}) that a write cut short by a
     * kill leaves in a run directory; a resumed run would otherwise carry them forever.
     */
    static void removeStrayTemporaries(Path runDir, Consumer<String> log) throws IOException {
        try (var files = Files.list(runDir)) {
            for (Path f : files.filter(RunTracker::isTemporary).toList()) {
                Files.deleteIfExists(f);
                log.accept("removed " + f.getFileName() + ", a temporary file left by an interrupted write");
            }
        }
    }

    private static boolean isTemporary(Path f) {
        String n = f.getFileName().toString();
        return n.startsWith(".") && n.endsWith(".tmp") && Files.isRegularFile(f);
    }

    /**
     * Deletes the directory of a new run that failed before its first checkpoint: what it holds (config, a
     * plot or two) describes a run that never trained, and an empty-looking run would be mistaken for one.
     * Quietly: the failure's own message is the one line the user needs.
     */
    static void removeIfNoCheckpoint(Path runDir, Consumer<String> log) {
        if (runDir == null || !Files.isDirectory(runDir) || Files.exists(runDir.resolve(LAST))) return;
        try (var walk = Files.walk(runDir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            log.accept("warning: could not remove the failed run's directory " + runDir + ": " + e.getMessage());
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) || v < 0 ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private void writeReport(Map<String, Object> summary) {
        Map<String, Object> s = summary != null ? summary : Map.of("name", runDir.getFileName().toString(), "status", "running");
        Guard.run(warn, "report.html", () -> Report.write(runDir, s));
    }

    @Override
    public void close() {
        progress.close();
        if (tb != null) tb.close();
    }
}
