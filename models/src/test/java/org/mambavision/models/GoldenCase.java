package org.mambavision.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mambavision.engine.Tensor;
import org.mambavision.models.mambavision.MambaVisionConfig;

/** A golden case folder (mini, mini_ls): its constructor arguments and expected parameter count. */
record GoldenCase(Path dir, MambaVisionConfig config, int height, int width, long params) {
    static GoldenCase read(Path dir) throws IOException {
        String json = Files.readString(dir.resolve("case.json")).replaceAll("\\s+", "");
        int[] depths = ints(json, "depths"), heads = ints(json, "num_heads"), windows = ints(json, "window_size"), hw = ints(json, "input_hw");
        Float ls = json.contains("\"layer_scale\":") ? (float) num(json, "layer_scale") : null;
        MambaVisionConfig cfg = new MambaVisionConfig("golden_" + dir.getFileName(), (int) num(json, "dim"), (int) num(json, "in_dim"),
                depths, heads, windows, (float) num(json, "mlp_ratio"), 0f, ls, 3, (int) num(json, "num_classes"), hw[0], 1f);
        return new GoldenCase(dir, cfg, hw[0], hw[1], (long) num(json, "params"));
    }

    private static int[] ints(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":\\[([0-9,]*)]").matcher(json);
        if (!m.find()) throw new IllegalStateException("case.json lacks " + key);
        String[] parts = m.group(1).split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Integer.parseInt(parts[i]);
        return out;
    }

    private static double num(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":([-0-9.eE+]+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("case.json lacks " + key);
        return Double.parseDouble(m.group(1));
    }

    /** Relative error: ||a - b|| / ||b||. */
    static double relError(float[] actual, float[] expected) {
        double d = 0, n = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            d += (actual[i] - e) * (actual[i] - e);
            n += e * e;
        }
        return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
    }

    static void assertClose(String what, Tensor actual, Tensor expected, double tol) {
        if (actual.numel() != expected.numel()) {
            throw new AssertionError(what + ": shape " + actual.shapeString() + " vs expected " + expected.shapeString());
        }
        double err = relError(actual.data, expected.data);
        if (!(err <= tol)) throw new AssertionError(what + ": relative error " + err + " > " + tol);
    }
}
