package org.mambavision.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;
import org.mambavision.training.track.Plots;
import org.mambavision.training.track.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Redraw a run's training curves and report from its metrics; the report keeps the run's summary.")
public final class PlotCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "A run directory (runs/NAME-TIMESTAMP).")
    Path runDir;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(runDir)) throw new UserError(runDir + ": no such run directory");
        List<Map<String, Object>> rows = MetricsLog.read(runDir);
        if (rows.isEmpty()) throw new UserError(runDir + ": no metrics yet (metrics.jsonl is empty)");
        Path png = runDir.resolve("curves.png");
        Plots.trainingCurves(rows, png, lossNote());
        // The summary a finished run wrote (model, accuracy, time, ...) lives only in its report: carry it over.
        Map<String, Object> summary = new LinkedHashMap<>(Report.readSummary(runDir));
        summary.putIfAbsent("name", runDir.toAbsolutePath().normalize().getFileName().toString());
        summary.put("epochs logged", rows.size());
        Path report = Report.write(runDir, summary);
        System.out.println("wrote " + png + " and " + report);
        return 0;
    }

    /** The training-loss note of the run's own config.yaml; none (with a warning) if that can't be read. */
    private String lossNote() {
        Path yaml = runDir.resolve("config.yaml");
        if (!Files.isRegularFile(yaml)) return null;
        try {
            TrainConfig cfg = ConfigLoader.load(yaml);
            return Plots.trainLossNote(cfg.labelSmoothing, cfg.mixup, cfg.cutmix);
        } catch (RuntimeException e) {
            System.err.println("warning: " + yaml + " not read (" + e.getMessage() + "); curves drawn without the training-loss note");
            return null;
        }
    }
}
