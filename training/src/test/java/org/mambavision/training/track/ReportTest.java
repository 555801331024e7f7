package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path tmp;

    /** The src of every img of report.html, resolved against the report's own folder, as a browser would. */
    static List<Path> figures(Path report) throws IOException {
        List<Path> out = new ArrayList<>();
        Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(Files.readString(report));
        while (m.find()) {
            String src = java.net.URLDecoder.decode(m.group(1), java.nio.charset.StandardCharsets.UTF_8);
            out.add(report.getParent().resolve(src).normalize());
        }
        return out;
    }

    static void png(Path p) throws IOException {
        Plots.confusionMatrix(new int[][] {{2, 0}, {1, 1}}, null, p);
    }

    @Test
    void figuresOfARunDirGivenRelativeToTheWorkingDirectoryExistRelativeToTheReport() throws IOException {
        // save_dir: runs (the default) gives run directories relative to the working directory
        Path cwd = Path.of("").toAbsolutePath();
        Path abs = Files.createTempDirectory(cwd.resolve("target"), "report-run ");
        Path relative = cwd.relativize(abs);
        assertFalse(relative.isAbsolute());
        try {
            png(relative.resolve("curves.png"));
            png(relative.resolve("confusion.png"));
            Path report = Report.write(relative, Map.of("name", "r"));
            List<Path> figs = figures(report.toAbsolutePath());
            assertEquals(List.of(abs.resolve("curves.png"), abs.resolve("confusion.png")), figs);
            for (Path f : figs) assertTrue(Files.isRegularFile(f), f + " missing");
        } finally {
            try (Stream<Path> s = Files.walk(abs)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    @Test
    void imagesGivenInEveryFormAreReferencedRelativeToTheReportAndMissingOnesLeftOut() throws IOException {
        png(tmp.resolve("a b.png"));
        Files.createDirectories(tmp.resolve("sub"));
        png(tmp.resolve("sub/c.png"));
        Path report = Report.write(tmp, Map.of(), List.of(Path.of("a b.png"), tmp.resolve("sub/c.png"), Path.of("gone.png")), List.of());
        String html = Files.readString(report);
        assertTrue(html.contains("src=\"a%20b.png\""), html);
        assertTrue(html.contains("src=\"sub/c.png\""), html);
        assertFalse(html.contains("gone.png"), html);
        assertEquals(List.of(tmp.resolve("a b.png"), tmp.resolve("sub/c.png")), figures(report));
    }

    @Test
    void summaryReadsBackInOrderWithSpecialCharacters() throws IOException {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("name", "flat_tiny-1");
        summary.put("best val top1", 0.4615);
        summary.put("note", "a <b> & \"c\" 'd'");
        Report.write(tmp, summary, List.of(), List.of());
        Map<String, String> back = Report.readSummary(tmp);
        assertEquals(List.of("name", "best val top1", "note"), new ArrayList<>(back.keySet()));
        assertEquals("flat_tiny-1", back.get("name"));
        assertEquals("0.4615", back.get("best val top1"));
        assertEquals("a <b> & \"c\" 'd'", back.get("note"));
    }

    @Test
    void noReportNoSummary() throws IOException {
        assertTrue(Report.readSummary(tmp).isEmpty());
    }
}
