package org.mambavision.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mambavision.training.track.MetricsLog;
import org.mambavision.training.track.Plots;
import org.mambavision.training.track.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "plot", mixinStandardHelpOptions = true, description = "Redraw a run's training curves and report from its metrics.")
public final class PlotCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "A run directory (runs/NAME-TIMESTAMP).")
    Path runDir;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(runDir)) throw new UserError(runDir + ": no such run directory");
        List<Map<String, Object>> rows = MetricsLog.read(runDir);
        if (rows.isEmpty()) throw new UserError(runDir + ": no metrics yet (metrics.jsonl is empty)");
        Path png = runDir.resolve("curves.png");
        Plots.trainingCurves(rows, png);
        Path report = Report.write(runDir, Map.of("name", runDir.getFileName().toString(), "epochs logged", rows.size()));
        System.out.println("wrote " + png + " and " + report);
        return 0;
    }
}
