package org.mambavision.training.track;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.mambavision.engine.io.AtomicFiles;

/**
 * {@code report.html} in a run directory: the run summary as a key/value table, the figures, and the
 * per-epoch metrics table. Self-contained apart from the images, which it references by relative path, so the
 * run directory can be copied or zipped as a whole.
 */
public final class Report {
    public static final String FILE = "report.html";

    private Report() {}

    /**
     * Writes the report with every PNG found directly in {@code runDir} (curves first) and the metrics read
     * from the run's metrics log (none if it has none yet).
     */
    public static Path write(Path runDir, Map<String, ?> summary) throws IOException {
        List<Path> images = new ArrayList<>();
        if (Files.isDirectory(runDir)) {
            // absolute, so that the listing's paths don't depend on the working directory (see write below)
            try (Stream<Path> files = Files.list(runDir.toAbsolutePath().normalize())) {
                files.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
                        .sorted(Comparator.comparing((Path p) -> !p.getFileName().toString().startsWith("curves"))
                                .thenComparing(p -> p.getFileName().toString()))
                        .forEach(images::add);
            }
        }
        List<Map<String, Object>> metrics;
        try {
            metrics = MetricsLog.read(runDir);
        } catch (java.nio.file.NoSuchFileException e) {
            metrics = List.of();
        }
        return write(runDir, summary, images, metrics);
    }

    /**
     * Writes the report with the given images (absolute, relative to {@code runDir}, or relative to the
     * working directory as {@code runDir.resolve(name)} gives them; images that don't exist are left out) and
     * metrics rows. Figures are referenced relative to report.html. Returns the report's path.
     */
    public static Path write(Path runDir, Map<String, ?> summary, List<Path> images,
                             List<Map<String, Object>> metrics) throws IOException {
        Path dir = runDir.toAbsolutePath().normalize();
        Object name = summary.get("name");
        String title = "Run " + (name != null ? name : dir.getFileName());
        StringBuilder h = new StringBuilder(8192);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222}\n")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}\n")
                .append("th{background:#eef1f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append("tr:nth-child(even) td{background:#f8f9fb}figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}\n")
                .append("figcaption{color:#555;font-size:90%}\n</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");

        h.append(SUMMARY_START);
        for (Map.Entry<String, ?> e : summary.entrySet()) {
            h.append("<tr><th>").append(esc(e.getKey())).append("</th><td>").append(esc(format(e.getValue())))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");

        List<String> sources = new ArrayList<>();
        for (Path img : images) {
            Path abs = dir.resolve(img).normalize();
            if (!Files.isRegularFile(abs)) abs = img.toAbsolutePath().normalize();
            if (Files.isRegularFile(abs)) sources.add(relativeUrl(dir, abs));
        }
        if (!sources.isEmpty()) {
            h.append("<h2>Figures</h2>\n");
            for (String src : sources) {
                h.append("<figure><img src=\"").append(esc(src)).append("\" alt=\"").append(esc(src))
                        .append("\"><figcaption>").append(esc(src)).append("</figcaption></figure>\n");
            }
        }

        if (!metrics.isEmpty()) {
            Set<String> columns = new LinkedHashSet<>();
            for (Map<String, Object> row : metrics) columns.addAll(row.keySet());
            h.append("<h2>Metrics per epoch</h2>\n<table>\n<tr>");
            for (String c : columns) h.append("<th>").append(esc(c)).append("</th>");
            h.append("</tr>\n");
            for (Map<String, Object> row : metrics) {
                h.append("<tr>");
                for (String c : columns) {
                    Object v = row.get(c);
                    h.append(v instanceof Number ? "<td class=\"num\">" : "<td>").append(esc(format(v))).append("</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n");
        }
        h.append("</body>\n</html>\n");
        Path file = dir.resolve(FILE);
        AtomicFiles.writeString(file, h.toString());
        return file;
    }

    private static final String SUMMARY_START = "<h2>Summary</h2>\n<table>\n";
    private static final java.util.regex.Pattern SUMMARY_ROW =
            java.util.regex.Pattern.compile("<tr><th>([^<]*)</th><td>([^<]*)</td></tr>");

    /**
     * The summary table of the run's report.html as written by {@link #write}, in order; empty when there is
     * no report or it has no summary. Values come back as the text the report shows.
     */
    public static Map<String, String> readSummary(Path runDir) throws IOException {
        Path file = runDir.resolve(FILE);
        Map<String, String> summary = new java.util.LinkedHashMap<>();
        if (!Files.isRegularFile(file)) return summary;
        String html = Files.readString(file);
        int start = html.indexOf(SUMMARY_START);
        if (start < 0) return summary;
        int end = html.indexOf("</table>", start);
        if (end < 0) return summary;
        java.util.regex.Matcher m = SUMMARY_ROW.matcher(html.substring(start + SUMMARY_START.length(), end));
        while (m.find()) summary.put(unescape(m.group(1)), unescape(m.group(2)));
        return summary;
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&");
    }

    /** Path of {@code file} relative to {@code dir} with forward slashes, as a URL path (spaces etc. encoded). */
    private static String relativeUrl(Path dir, Path file) {
        Path rel = file.startsWith(dir) ? dir.relativize(file) : file;
        StringBuilder sb = new StringBuilder();
        for (Path part : rel) {
            if (!sb.isEmpty()) sb.append('/');
            sb.append(java.net.URLEncoder.encode(part.toString(), java.nio.charset.StandardCharsets.UTF_8)
                    .replace("+", "%20"));
        }
        return file.startsWith(dir) ? sb.toString() : file.toUri().toString();
    }

    static String format(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (!Double.isFinite(d)) return Double.toString(d);
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d) + ".0";
            double a = Math.abs(d);
            return a >= 1e-3 && a < 1e6 ? String.format(Locale.ROOT, "%.4f", d).replaceAll("0+$", "").replaceAll("\\.$", "")
                    : String.format(Locale.ROOT, "%.3e", d);
        }
        if (v instanceof double[] a) return java.util.Arrays.toString(a);
        if (v instanceof float[] a) return java.util.Arrays.toString(a);
        if (v instanceof int[] a) return java.util.Arrays.toString(a);
        return v.toString();
    }

    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
