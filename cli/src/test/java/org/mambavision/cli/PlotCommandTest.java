package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.mambavision.training.track.Report;

/** A run trained with a relative save_dir (the default "runs"), then redrawn with {@code plot}. */
class PlotCommandTest {
    static List<String> figureSources(Path report) throws IOException {
        Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(Files.readString(report));
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static void assertFiguresExist(Path report) throws IOException {
        List<String> srcs = figureSources(report);
        assertTrue(srcs.containsAll(List.of("curves.png", "samples.png", "confusion.png", "architecture.png")), "figures: " + srcs);
        for (String s : srcs) assertTrue(Files.isRegularFile(report.getParent().resolve(s)), s + " not next to " + report);
    }

    @Test
    void reportOfARelativeSaveDirShowsEveryFigureAndPlotKeepsTheSummary() throws IOException {
        Path saveDir = Path.of("target", "plot-test-" + System.nanoTime());
        assertFalse(saveDir.isAbsolute());
        try {
            Path run = TinyRun.train(saveDir);
            Path report = run.resolve(Report.FILE);
            assertFiguresExist(report);
            Map<String, String> trained = Report.readSummary(run);
            assertTrue(trained.containsKey("best val top1") && trained.containsKey("model"), "summary after training: " + trained);

            assertEquals(0, Main.run("plot", run.toString()));
            Map<String, String> redrawn = Report.readSummary(run);
            for (Map.Entry<String, String> e : trained.entrySet()) assertEquals(e.getValue(), redrawn.get(e.getKey()), e.getKey());
            assertEquals("1", redrawn.get("epochs logged"));
            assertFiguresExist(report);
        } finally {
            TinyRun.delete(saveDir);
        }
    }

    @Test
    void plotOfAMissingRunIsOneLine() {
        CliErrorsTest.assertOneLine(CliErrorsTest.run("plot", "target/no-such-run"), "target/no-such-run", "no such run directory");
    }
}
