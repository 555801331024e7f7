package org.mambavision.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.mambavision.engine.io.AtomicFiles;
import org.mambavision.engine.io.FileProbe;
import org.mambavision.engine.io.Json;
import org.mambavision.engine.io.WeightFiles;
import org.mambavision.inference.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify images: official preprocessing (or, with our own checkpoints, the run's validation "
                + "preprocessing), top-k classes with probabilities.",
                "An image that cannot be read or decoded gets a row with an error and the others go on."},
        footer = {"", "Exit status: 0 every image classified; 1 some images could not be read (each has an error row and "
                + "a line on stderr); 2 bad arguments, weights or model (nothing classified)."})
public final class PredictCommand implements Callable<Integer> {
    /** Extensions a folder is searched for (case-insensitive). */
    static final List<String> IMAGE_EXTENSIONS = List.of("jpg", "jpeg", "png", "bmp");

    @Option(names = "--model", description = "Model name (required for official weights; with our training checkpoints "
            + "optional, and an error if it names another model than the checkpoint's).")
    String model;

    @Option(names = "--weights", required = true, description = "Official .pth.tar/.safetensors, or a training checkpoint.")
    Path weights;

    @Option(names = "--top", defaultValue = "5", description = "How many classes to show (default 5).")
    int top;

    @Option(names = "--json", description = "One JSON object per image on stdout (as in a .jsonl --output).")
    boolean json;

    @Option(names = "--max-image-pixels", defaultValue = "89478485",
            description = "Refuse images whose header declares more pixels, before decoding them (default: ${DEFAULT-VALUE}, PIL's limit).")
    long maxImagePixels;

    @Option(names = "--output", paramLabel = "FILE", description = "Write the results to FILE instead of stdout: a name "
            + "ending in .csv gives columns path, label, index, probability, ranks 2..top, error; .jsonl one JSON object per image.")
    Path output;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files (JPEG, PNG, BMP), folders (every "
            + "jpg, jpeg, png and bmp file below, sorted) or quoted globs: 'imgs/*.jpg' for one folder, 'data/**.png' for all below it.")
    List<String> images;

    @Spec
    CommandSpec spec;

    enum Format { TEXT, CSV, JSONL }

    /** One image's outcome: its predictions, or why it has none. */
    record Row(Path path, List<Predictor.Prediction> top, String error) {}

    @Override
    public Integer call() throws Exception {
        if (top < 1) throw new UserError("--top must be at least 1, got " + top);
        Format format = json ? Format.JSONL : Format.TEXT;
        if (output != null) {
            format = outputFormat(output);
            if (Files.isDirectory(output)) throw new UserError("--output " + output + ": is a directory; give a file name ending in .csv or .jsonl");
        }
        WeightFiles.check(weights);
        List<Path> files = expand(images);
        Predictor p = Predictor.load(model, weights).withMaxImagePixels(maxImagePixels);

        PrintWriter err = spec.commandLine().getErr();
        List<Row> rows = new ArrayList<>(files.size());
        int failed = 0;
        for (Path img : files) {
            Row row = classify(p, img);
            if (row.error() != null) {
                failed++;
                err.println("error: " + row.error());
                err.flush();
            }
            if (output == null) printRow(row, format);
            rows.add(row);
        }
        if (output != null) {
            byte[] text = (format == Format.CSV ? csv(rows) : jsonl(rows)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            AtomicFiles.write(output, out -> out.write(text)); // temp file, fsync, rename
            System.out.println("wrote " + rows.size() + " rows to " + output + (failed > 0 ? " (" + failed + " with an error)" : ""));
        }
        if (failed > 0 && files.size() > 1) {
            err.println("error: " + failed + " of " + files.size() + " images could not be classified");
            err.flush();
        }
        return failed > 0 ? 1 : 0;
    }

    private Row classify(Predictor p, Path img) {
        try {
            if (Files.isRegularFile(img)) {
                String text = FileProbe.textStart(img);
                if (text != null) return new Row(img, null, img + ": is a text file (it starts " + text + "), not an image");
            }
            return new Row(img, p.predict(img, top), null); // the pixel limit is checked from the header first
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Row(img, null, msg.startsWith(img.toString()) ? msg : img + ": " + msg);
        }
    }

    static Format outputFormat(Path output) {
        String name = output.getFileName() == null ? "" : output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".csv")) return Format.CSV;
        if (name.endsWith(".jsonl")) return Format.JSONL;
        throw new UserError("--output " + output + ": unknown format; the name must end in .csv or .jsonl");
    }

    // ------------------------------------------------------------------ arguments to files

    /**
     * Files, folders and globs to image files, in argument order (folders and globs sorted within), each once.
     * An argument that names nothing, a folder without images or a glob matching nothing is an error up front:
     * a mistyped command line should not cost a model load.
     */
    static List<Path> expand(List<String> args) throws IOException {
        Set<Path> out = new LinkedHashSet<>();
        for (String arg : args) {
            Path path = pathOrNull(arg);
            if (path != null && Files.isDirectory(path)) {
                List<Path> found = walk(path, Integer.MAX_VALUE, PredictCommand::hasImageExtension);
                if (found.isEmpty()) throw new UserError(arg + ": folder has no " + String.join("/", IMAGE_EXTENSIONS) + " images");
                out.addAll(found);
            } else if (path != null && Files.exists(path)) {
                out.add(path);
            } else if (isGlob(arg)) {
                out.addAll(glob(arg));
            } else {
                throw new UserError(arg + ": no such file or folder");
            }
        }
        return new ArrayList<>(out);
    }

    private static Path pathOrNull(String arg) {
        try {
            return Path.of(arg);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    static boolean isGlob(String arg) {
        for (char c : arg.toCharArray()) if (c == '*' || c == '?' || c == '[' || c == '{') return true;
        return false;
    }

    /**
     * The regular files matching {@code pattern} (java.nio glob syntax: {@code *} within a folder, {@code **} across
     * folders), searched from its longest leading folder without wildcards, sorted.
     */
    static List<Path> glob(String pattern) throws IOException {
        String[] parts = pattern.replace(FileSystems.getDefault().getSeparator(), "/").split("/", -1);
        int fixed = 0;
        while (fixed < parts.length - 1 && !isGlob(parts[fixed])) fixed++;
        String baseText = String.join("/", java.util.Arrays.copyOfRange(parts, 0, fixed));
        // "" is the working directory: walking it gives paths as the user wrote them (a.jpg, not ./a.jpg)
        Path base = Path.of(baseText.isEmpty() && pattern.startsWith("/") ? "/" : baseText);
        int depth = pattern.contains("**") ? Integer.MAX_VALUE : parts.length - fixed;
        if (!Files.isDirectory(base.toString().isEmpty() ? Path.of(".") : base)) {
            throw new UserError(pattern + ": no files match (no folder " + base + ")");
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        List<Path> found = walk(base, depth, matcher::matches);
        if (found.isEmpty()) throw new UserError(pattern + ": no files match");
        return found;
    }

    /** Regular files under {@code dir} (to {@code depth} levels) accepted by {@code keep}, sorted by path. */
    private static List<Path> walk(Path dir, int depth, java.util.function.Predicate<Path> keep) throws IOException {
        try (Stream<Path> s = Files.walk(dir, depth)) {
            return s.filter(Files::isRegularFile).filter(keep).sorted().toList();
        }
    }

    static boolean hasImageExtension(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot >= 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1));
    }

    // ------------------------------------------------------------------ output

    private static void printRow(Row row, Format format) {
        if (format == Format.JSONL) {
            System.out.println(json(row));
            return;
        }
        System.out.println(row.path());
        if (row.error() != null) {
            System.out.println("  error: " + row.error());
            return;
        }
        for (Predictor.Prediction q : row.top()) {
            System.out.printf(Locale.ROOT, "  %6.2f%%  %4d  %s%n", 100 * q.probability(), q.index(), q.label());
        }
    }

    /** {"path", "label", "index", "probability" (rank 1), "top": [{"index", "label", "probability"}, ...]} or {"path", "error"}. */
    static String json(Row row) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", row.path().toString());
        if (row.error() != null) {
            o.put("error", row.error());
        } else {
            Predictor.Prediction best = row.top().get(0);
            o.put("label", best.label());
            o.put("index", best.index());
            o.put("probability", round(best.probability()));
            List<Map<String, Object>> topList = new ArrayList<>();
            for (Predictor.Prediction q : row.top()) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("index", q.index());
                t.put("label", q.label());
                t.put("probability", round(q.probability()));
                topList.add(t);
            }
            o.put("top", topList);
        }
        return Json.write(o);
    }

    /** Six decimals: what a probability needs, without float noise such as 0.30000001192. */
    private static double round(float p) {
        return Math.round(p * 1e6) / 1e6;
    }

    private static String jsonl(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) sb.append(json(r)).append('\n');
        return sb.toString();
    }

    /** Header and one line per image; ranks 2..k have columns of their own, empty where an image has fewer or failed. */
    private String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder("path,label,index,probability");
        for (int r = 2; r <= top; r++) sb.append(",top").append(r).append("_label,top").append(r).append("_index,top").append(r).append("_probability");
        sb.append(",error\n");
        for (Row row : rows) {
            sb.append(csvField(row.path().toString()));
            for (int r = 1; r <= top; r++) {
                Predictor.Prediction q = row.top() != null && r <= row.top().size() ? row.top().get(r - 1) : null;
                sb.append(',').append(q == null ? "" : csvField(q.label()));
                sb.append(',').append(q == null ? "" : Integer.toString(q.index()));
                sb.append(',').append(q == null ? "" : String.format(Locale.ROOT, "%.6f", q.probability()));
            }
            sb.append(',').append(row.error() == null ? "" : csvField(row.error())).append('\n');
        }
        return sb.toString();
    }

    /** RFC 4180: quoted when it holds a comma, quote or line break (ImageNet labels have commas), quotes doubled. */
    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
