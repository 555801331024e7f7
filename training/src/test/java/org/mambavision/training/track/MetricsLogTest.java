package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @TempDir
    Path tmp;

    static MetricsLog.EpochMetrics epoch(int e, double valLoss, Map<String, Object> extra) {
        return new MetricsLog.EpochMetrics(e, 2.0 / e, 0.1 * e, valLoss, 0.09 * e, 0.3 + 0.1 * e, 1e-3 / e,
                123.5 * e, 10.25, extra);
    }

    @Test
    void jsonlAndCsvRoundTrip() throws IOException {
        List<String> warnings = new ArrayList<>();
        MetricsLog log = new MetricsLog(tmp, warnings::add);
        assertTrue(log.log(epoch(1, 1.9, null)));
        assertTrue(log.log(epoch(2, Double.NaN, Map.of())));              // no validation this epoch
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("grad_norm", 0.75);
        extra.put("note", "lr, \"cut\"");                                  // needs CSV quoting
        assertTrue(log.log(epoch(3, 1.1, extra)));
        assertEquals(List.of(), warnings);

        List<String> jsonl = Files.readAllLines(tmp.resolve(MetricsLog.JSONL));
        assertEquals(3, jsonl.size());
        assertTrue(jsonl.get(0).startsWith("{\"epoch\": 1, \"train_loss\": 2.0, \"train_top1\": 0.1,"), jsonl.get(0));
        assertTrue(jsonl.get(1).contains("\"val_loss\": null"), jsonl.get(1));

        List<Map<String, Object>> rows = MetricsLog.read(tmp);
        assertEquals(3, rows.size());
        checkRows(rows);
        assertEquals("lr, \"cut\"", rows.get(2).get("note"));

        List<String> csv = Files.readAllLines(tmp.resolve(MetricsLog.CSV));
        assertEquals(4, csv.size());
        assertEquals("epoch,train_loss,train_top1,val_loss,val_top1,val_top5,lr,images_per_sec,epoch_seconds,"
                + "grad_norm,note", csv.get(0));
        assertTrue(csv.get(2).startsWith("2,1.0,0.2,,"), csv.get(2));

        // the CSV alone reads back to the same numbers
        Files.delete(tmp.resolve(MetricsLog.JSONL));
        List<Map<String, Object>> fromCsv = MetricsLog.read(tmp);
        checkRows(fromCsv);
        assertEquals("lr, \"cut\"", fromCsv.get(2).get("note"));
        assertNull(fromCsv.get(0).get("grad_norm"));
    }

    private static void checkRows(List<Map<String, Object>> rows) {
        for (int i = 0; i < 3; i++) {
            Map<String, Object> r = rows.get(i);
            int e = i + 1;
            assertEquals((long) e, r.get("epoch"));
            assertEquals(2.0 / e, MetricsLog.number(r, "train_loss"));
            assertEquals(0.1 * e, MetricsLog.number(r, "train_top1"));
            assertEquals(0.09 * e, MetricsLog.number(r, "val_top1"));
            assertEquals(0.3 + 0.1 * e, MetricsLog.number(r, "val_top5"));
            assertEquals(1e-3 / e, MetricsLog.number(r, "lr"));
            assertEquals(123.5 * e, MetricsLog.number(r, "images_per_sec"));
            assertEquals(10.25, MetricsLog.number(r, "epoch_seconds"));
        }
        assertNull(rows.get(1).get("val_loss"));
        assertTrue(Double.isNaN(MetricsLog.number(rows.get(1), "val_loss")));
        assertEquals(1.1, MetricsLog.number(rows.get(2), "val_loss"));
        assertEquals(0.75, MetricsLog.number(rows.get(2), "grad_norm"));
    }

    @Test
    void resumeKeepsEpochsUpToTheCheckpoint() throws IOException {
        MetricsLog log = new MetricsLog(tmp, Guard.STDERR);
        for (int e = 1; e <= 4; e++) log.log(epoch(e, 1.0, null));
        MetricsLog resumed = MetricsLog.resume(tmp, 2, Guard.STDERR);
        assertEquals(2, resumed.rows().size());
        resumed.log(epoch(3, 0.5, null));
        List<Map<String, Object>> rows = MetricsLog.read(tmp);
        assertEquals(3, rows.size());
        assertEquals(0.5, MetricsLog.number(rows.get(2), "val_loss"));
    }

    @Test
    void resumeWithoutFilesStartsEmptyWithAWarning() {
        List<String> warnings = new ArrayList<>();
        MetricsLog log = MetricsLog.resume(tmp.resolve("none"), 3, warnings::add);
        assertEquals(0, log.rows().size());
        assertEquals(1, warnings.size());
    }

    @Test
    void malformedLineIsReportedWithFileAndLine() throws IOException {
        Files.writeString(tmp.resolve(MetricsLog.JSONL), "{\"epoch\": 1}\n{\"epoch\": 2,\n");
        IOException e = assertThrows(IOException.class, () -> MetricsLog.read(tmp));
        assertTrue(e.getMessage().contains("metrics.jsonl line 2"), e.getMessage());
    }

    @Test
    void unwritableRunDirectoryWarnsAndDoesNotThrow() throws IOException {
        Path regularFile = Files.writeString(tmp.resolve("file"), "x");
        List<String> warnings = new ArrayList<>();
        MetricsLog log = new MetricsLog(regularFile.resolve("run"), warnings::add);
        assertFalse(log.log(epoch(1, 1.0, null)));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("writing metrics to "), warnings.get(0));
        assertEquals(1, log.rows().size(), "kept in memory for the next attempt");
    }

    @Test
    void rewritesLeaveNoTemporaryFiles() throws IOException {
        MetricsLog log = new MetricsLog(tmp, Guard.STDERR);
        for (int e = 1; e <= 3; e++) log.log(epoch(e, 1.0, null));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(MetricsLog.CSV, MetricsLog.JSONL),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
