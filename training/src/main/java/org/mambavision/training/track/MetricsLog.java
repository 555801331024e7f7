package org.mambavision.training.track;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.mambavision.engine.io.AtomicFiles;
import org.mambavision.engine.io.Json;

/**
 * Per-epoch metrics of a run, kept as {@code metrics.jsonl} (one JSON object per line) and {@code metrics.csv}
 * (header + one row per epoch) in the run directory. Both files are small, so each {@link #log} rewrites them
 * whole and atomically: a crash never leaves a torn line, and a new extra key simply widens the CSV header.
 * Accuracies are fractions in [0, 1]. Write failures become warnings.
 */
public final class MetricsLog {
    public static final String JSONL = "metrics.jsonl";
    public static final String CSV = "metrics.csv";

    public static final String EPOCH = "epoch", TRAIN_LOSS = "train_loss", TRAIN_TOP1 = "train_top1",
            VAL_LOSS = "val_loss", VAL_TOP1 = "val_top1", VAL_TOP5 = "val_top5", LR = "lr",
            IMAGES_PER_SEC = "images_per_sec", EPOCH_SECONDS = "epoch_seconds";

    /**
     * One epoch's numbers. Use {@link Double#NaN} for a value not measured this epoch (no validation when
     * {@code eval_every > 1}); it is written as JSON null and an empty CSV cell. {@code extra} keys follow the
     * standard ones in insertion order.
     */
    public record EpochMetrics(int epoch, double trainLoss, double trainTop1, double valLoss, double valTop1,
                               double valTop5, double lr, double imagesPerSec, double epochSeconds,
                               Map<String, Object> extra) {
        public EpochMetrics {
            extra = extra == null ? Map.of() : new LinkedHashMap<>(extra);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(EPOCH, epoch);
            m.put(TRAIN_LOSS, trainLoss);
            m.put(TRAIN_TOP1, trainTop1);
            m.put(VAL_LOSS, valLoss);
            m.put(VAL_TOP1, valTop1);
            m.put(VAL_TOP5, valTop5);
            m.put(LR, lr);
            m.put(IMAGES_PER_SEC, imagesPerSec);
            m.put(EPOCH_SECONDS, epochSeconds);
            m.putAll(extra);
            return m;
        }
    }

    private final Path runDir;
    private final Consumer<String> warn;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    /** A log that starts empty; nothing touches the disk before the first {@link #log}. */
    public MetricsLog(Path runDir, Consumer<String> warn) {
        this.runDir = runDir;
        this.warn = warn == null ? Guard.STDERR : warn;
    }

    /**
     * A log for a resumed run: keeps the stored rows with {@code epoch <= lastEpoch} (later ones belong to the
     * interrupted attempt and will be redone). Unreadable files are warned about and the log starts empty.
     */
    public static MetricsLog resume(Path runDir, long lastEpoch, Consumer<String> warn) {
        MetricsLog log = new MetricsLog(runDir, warn);
        Guard.run(log.warn, "reading metrics of " + runDir, () -> {
            for (Map<String, Object> row : read(runDir)) {
                Object e = row.get(EPOCH);
                if (e instanceof Number n && n.longValue() <= lastEpoch) log.rows.add(row);
            }
        });
        return log;
    }

    public Path runDir() {
        return runDir;
    }

    /** The rows logged so far (read-only view). */
    public List<Map<String, Object>> rows() {
        return java.util.Collections.unmodifiableList(rows);
    }

    /** Appends an epoch and rewrites both files; false (and a warning) if writing failed. */
    public boolean log(EpochMetrics metrics) {
        return log(metrics.toMap());
    }

    /** Appends an arbitrary row (keys in the order given) and rewrites both files. */
    public boolean log(Map<String, Object> row) {
        rows.add(new LinkedHashMap<>(row));
        return Guard.run(warn, "writing metrics to " + runDir, this::writeAll);
    }

    private void writeAll() throws IOException {
        StringBuilder jsonl = new StringBuilder();
        for (Map<String, Object> row : rows) {
            Json.write(jsonl, row);
            jsonl.append('\n');
        }
        AtomicFiles.writeString(runDir.resolve(JSONL), jsonl.toString());
        AtomicFiles.writeString(runDir.resolve(CSV), toCsv(rows));
    }

    static String toCsv(List<Map<String, Object>> rows) {
        Set<String> columns = new LinkedHashSet<>();
        for (Map<String, Object> row : rows) columns.addAll(row.keySet());
        StringBuilder sb = new StringBuilder();
        sb.append(String.join(",", columns.stream().map(MetricsLog::csvCell).toList())).append('\n');
        for (Map<String, Object> row : rows) {
            boolean first = true;
            for (String c : columns) {
                if (!first) sb.append(',');
                first = false;
                Object v = row.get(c);
                if (v instanceof Number n) sb.append(Json.number(n));
                else if (v != null) sb.append(csvCell(v.toString()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String csvCell(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    /**
     * Reloads the metrics of a run: from {@code metrics.jsonl}, or {@code metrics.csv} if there is no JSONL.
     * Numbers come back as Long (integers) or Double; missing values as null.
     *
     * @throws IOException if neither file exists or one is malformed (the message names file and line)
     */
    public static List<Map<String, Object>> read(Path runDir) throws IOException {
        Path jsonl = runDir.resolve(JSONL);
        if (Files.exists(jsonl)) return readJsonl(jsonl);
        Path csv = runDir.resolve(CSV);
        if (Files.exists(csv)) return readCsv(csv);
        throw new java.nio.file.NoSuchFileException(jsonl.toString(), null, "no " + JSONL + " or " + CSV);
    }

    private static List<Map<String, Object>> readJsonl(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            Object v;
            try {
                v = Json.parse(line);
            } catch (Json.ParseException e) {
                throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage());
            }
            if (!(v instanceof Map<?, ?>)) throw new IOException(file + " line " + (i + 1) + ": not a JSON object");
            @SuppressWarnings("unchecked")
            Map<String, Object> row = (Map<String, Object>) v;
            rows.add(row);
        }
        return rows;
    }

    private static List<Map<String, Object>> readCsv(Path file) throws IOException {
        List<List<String>> records = parseCsv(Files.readString(file, StandardCharsets.UTF_8));
        List<Map<String, Object>> rows = new ArrayList<>();
        if (records.isEmpty()) return rows;
        List<String> header = records.get(0);
        for (int r = 1; r < records.size(); r++) {
            List<String> cells = records.get(r);
            if (cells.size() != header.size()) {
                throw new IOException(file + " row " + (r + 1) + ": " + cells.size() + " cells, header has "
                        + header.size());
            }
            Map<String, Object> row = new LinkedHashMap<>();
            for (int c = 0; c < header.size(); c++) row.put(header.get(c), csvValue(cells.get(c)));
            rows.add(row);
        }
        return rows;
    }

    private static Object csvValue(String cell) {
        if (cell.isEmpty()) return null;
        try {
            return Long.parseLong(cell);
        } catch (NumberFormatException notLong) {
            try {
                return Double.parseDouble(cell);
            } catch (NumberFormatException notNumber) {
                return cell;
            }
        }
    }

    private static List<List<String>> parseCsv(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false, any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') { cell.append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.append(c);
            } else if (c == '"') {
                quoted = true;
                any = true;
            } else if (c == ',') {
                record.add(cell.toString());
                cell.setLength(0);
                any = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                if (any || cell.length() > 0) {
                    record.add(cell.toString());
                    records.add(record);
                }
                record = new ArrayList<>();
                cell.setLength(0);
                any = false;
            } else {
                cell.append(c);
                any = true;
            }
        }
        if (any || cell.length() > 0) {
            record.add(cell.toString());
            records.add(record);
        }
        return records;
    }

    /** A row's value as a double: NaN when absent, null or not a number. */
    public static double number(Map<String, Object> row, String key) {
        return row.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
