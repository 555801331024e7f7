package org.mambavision.models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.engine.io.WeightFiles;

/** Loading and saving model weights under the official state-dict names. */
public final class Weights {
    private Weights() {}

    /** What a load did: keys the model has but the file lacks, keys the file has but the model lacks, shape mismatches. */
    public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched, int loaded) {
        public boolean clean() {
            return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
        }

        public String describe() {
            List<String> parts = new ArrayList<>();
            if (!missing.isEmpty()) parts.add(missing.size() + " missing key(s): " + abbreviate(missing));
            if (!unexpected.isEmpty()) parts.add(unexpected.size() + " unexpected key(s): " + abbreviate(unexpected));
            if (!mismatched.isEmpty()) parts.add(mismatched.size() + " shape mismatch(es): " + abbreviate(mismatched));
            return parts.isEmpty() ? "all " + loaded + " tensors loaded" : String.join("; ", parts);
        }
    }

    static String abbreviate(List<String> items) {
        int show = Math.min(items.size(), 12);
        String s = String.join(", ", items.subList(0, show));
        return items.size() > show ? s + ", ... (" + (items.size() - show) + " more)" : s;
    }

    /** Reads a weight file (safetensors or torch zip) and loads it; strict mode throws on any difference. */
    public static LoadReport load(VisionModel model, Path file, boolean strict) throws IOException {
        Map<String, Tensor> sd = WeightFiles.load(file); // says what the file is if it is missing, a directory or text
        try {
            return load(model, sd, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies matching tensors into the model. Strict: any missing key, unexpected key or shape mismatch
     * is reported all at once in an IllegalArgumentException and nothing is changed. Non-strict: loads
     * what matches and reports what it skipped.
     */
    public static LoadReport load(VisionModel model, Map<String, Tensor> source, boolean strict) {
        Map<String, Tensor> target = model.stateDict();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), mismatched = new ArrayList<>();
        for (String k : target.keySet()) if (!source.containsKey(k)) missing.add(k);
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            Tensor t = target.get(e.getKey());
            if (t == null) unexpected.add(e.getKey());
            else if (!shapesCompatible(t, e.getValue())) {
                mismatched.add(e.getKey() + " (model " + Arrays.toString(t.shape()) + ", file " + Arrays.toString(e.getValue().shape()) + ")");
            }
        }
        LoadReport probe = new LoadReport(missing, unexpected, mismatched, 0);
        if (strict && !probe.clean()) {
            throw new IllegalArgumentException("weights do not match " + model.name() + ": " + probe.describe());
        }
        model.unfreeze(); // packed copies of the old weights must not outlive them
        int loaded = 0;
        Set<String> bad = new LinkedHashSet<>();
        for (String m : mismatched) bad.add(m.substring(0, m.indexOf(' ')));
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            Tensor t = target.get(e.getKey());
            if (t == null || bad.contains(e.getKey())) continue;
            System.arraycopy(e.getValue().data, 0, t.data, 0, t.numel());
            loaded++;
        }
        return new LoadReport(missing, unexpected, mismatched, loaded);
    }

    /** Scalars stored as shape [] or [1] are the same thing (num_batches_tracked). */
    private static boolean shapesCompatible(Tensor a, Tensor b) {
        return a.sameShape(b) || (a.numel() == 1 && b.numel() == 1);
    }

    /** Writes the state dict as safetensors with official names (num_batches_tracked as I64), atomically. */
    public static void save(VisionModel model, Path file, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(model.stateDict());
        Set<String> ints = new LinkedHashSet<>();
        for (String k : sd.keySet()) if (k.endsWith("num_batches_tracked")) ints.add(k);
        Safetensors.write(file, sd, ints, metadata);
    }
}
