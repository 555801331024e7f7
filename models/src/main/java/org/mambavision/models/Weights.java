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

    /** Names of the classifier's tensors start with this (both model families); everything else is the backbone. */
    public static final String HEAD_PREFIX = "head.";

    /** A tensor present in both the model and the file with different shapes. */
    public record Mismatch(String name, int[] modelShape, int[] fileShape) {
        @Override
        public String toString() {
            return name + " (model " + Arrays.toString(modelShape) + ", file " + Arrays.toString(fileShape) + ")";
        }
    }

    /**
     * The classifier head was left at its fresh initialisation because the file's head does not fit the model:
     * {@code fileClasses} is the file's class count, or null when the file has no head at all.
     */
    public record HeadReset(List<String> tensors, int modelClasses, Integer fileClasses) {
        @Override
        public String toString() {
            return "head re-initialised for " + modelClasses + " classes ("
                    + (fileClasses == null ? "the file has no head" : "the file has " + fileClasses) + ")";
        }
    }

    /**
     * What a load did. {@code loaded}: tensors copied from the file; {@code missing}: in the model, not in the file;
     * {@code unexpected}: in the file, not in the model; {@code mismatched}: shapes differ (not loaded);
     * {@code headReset}: non-null when a fine-tuning load left the classifier head freshly initialised.
     */
    public record LoadReport(List<String> loaded, List<String> missing, List<String> unexpected, List<Mismatch> mismatched,
                             HeadReset headReset) {
        public LoadReport {
            loaded = List.copyOf(loaded);
            missing = List.copyOf(missing);
            unexpected = List.copyOf(unexpected);
            mismatched = List.copyOf(mismatched);
        }

        /** Every model tensor came from the file and every file tensor went into the model. */
        public boolean clean() {
            return backboneMatches() && headReset == null;
        }

        /** No missing, unexpected or shape-mismatched tensor apart from a re-initialised head. */
        public boolean backboneMatches() {
            return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
        }

        /** One line for a log, e.g. "all 302 tensors loaded" or "300 tensors loaded; head re-initialised for 3 classes (the file has 10)". */
        public String describe() {
            List<String> parts = new ArrayList<>();
            parts.add(clean() ? "all " + loaded.size() + " tensors loaded" : loaded.size() + " tensor(s) loaded");
            if (headReset != null) parts.add(headReset.toString());
            parts.addAll(problems());
            return String.join("; ", parts);
        }

        List<String> problems() {
            List<String> parts = new ArrayList<>();
            if (!missing.isEmpty()) parts.add(missing.size() + " missing key(s) (in the model, not in the file): " + abbreviate(missing));
            if (!unexpected.isEmpty()) parts.add(unexpected.size() + " unexpected key(s) (in the file, not in the model): " + abbreviate(unexpected));
            if (!mismatched.isEmpty()) {
                parts.add(mismatched.size() + " shape mismatch(es): " + abbreviate(mismatched.stream().map(Mismatch::toString).toList()));
            }
            return parts;
        }
    }

    static String abbreviate(List<String> items) {
        int show = Math.min(items.size(), 12);
        String s = String.join(", ", items.subList(0, show));
        return items.size() > show ? s + ", ... (" + (items.size() - show) + " more)" : s;
    }

    /** Reads a weight file (safetensors or torch zip) and loads it; strict mode throws on any difference. */
    public static LoadReport load(VisionModel model, Path file, boolean strict) throws IOException {
        Map<String, Tensor> sd = read(file);
        try {
            return load(model, sd, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** The tensors of a weight file (safetensors or torch zip), wrapper prefixes stripped; a missing file, a directory or a text file is said to be one. */
    public static Map<String, Tensor> read(Path file) throws IOException {
        return WeightFiles.load(file);
    }

    /**
     * Copies matching tensors into the model. Strict: any missing key, unexpected key or shape mismatch
     * is reported all at once in an IllegalArgumentException and nothing is changed. Non-strict: loads
     * what matches and reports what it skipped.
     */
    public static LoadReport load(VisionModel model, Map<String, Tensor> source, boolean strict) {
        LoadReport probe = compare(model, source, Set.of(), null);
        if (strict && !probe.clean()) {
            throw new IllegalArgumentException("weights do not match " + model.name() + ": " + String.join("; ", probe.problems()));
        }
        return copy(model, source, probe);
    }

    /**
     * Loads weights to fine-tune from: the backbone must match, the classifier head is loaded when its shapes fit and
     * otherwise left freshly initialised (reported as {@link HeadReset}). Strict: a backbone that does not match
     * (another architecture, missing or extra backbone tensors, other shapes) is an IllegalArgumentException naming the
     * first differences, and nothing is changed. Non-strict: loads what matches and reports the rest.
     */
    public static LoadReport loadPretrained(VisionModel model, Map<String, Tensor> source, boolean strict) {
        Map<String, Tensor> target = model.stateDict();
        Set<String> headKeys = new LinkedHashSet<>();
        for (String k : target.keySet()) if (k.startsWith(HEAD_PREFIX)) headKeys.add(k);
        boolean headFits = true, fileHasHead = false;
        for (String k : headKeys) {
            Tensor s = source.get(k);
            fileHasHead |= s != null;
            headFits &= s != null && shapesCompatible(target.get(k), s);
        }
        HeadReset reset = null;
        Set<String> skip = Set.of();
        if (!headFits) {
            Tensor fileHead = source.get(HEAD_PREFIX + "weight");
            reset = new HeadReset(List.copyOf(headKeys), model.numClasses(),
                    fileHasHead && fileHead != null && fileHead.rank() == 2 ? fileHead.dim(0) : null);
            skip = new LinkedHashSet<>(headKeys);
            for (String k : source.keySet()) if (k.startsWith(HEAD_PREFIX)) skip.add(k);
        }
        LoadReport probe = compare(model, source, skip, reset);
        if (strict && !probe.backboneMatches()) {
            throw new IllegalArgumentException("the backbone does not match " + model.name() + ": " + String.join("; ", probe.problems()));
        }
        return copy(model, source, probe);
    }

    /** {@link #loadPretrained(VisionModel, Map, boolean)} from a weight file. */
    public static LoadReport loadPretrained(VisionModel model, Path file, boolean strict) throws IOException {
        Map<String, Tensor> sd = read(file);
        try {
            return loadPretrained(model, sd, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** What loading {@code source} would do, ignoring the names in {@code skip} on both sides. */
    private static LoadReport compare(VisionModel model, Map<String, Tensor> source, Set<String> skip, HeadReset reset) {
        Map<String, Tensor> target = model.stateDict();
        List<String> loaded = new ArrayList<>(), missing = new ArrayList<>(), unexpected = new ArrayList<>();
        List<Mismatch> mismatched = new ArrayList<>();
        for (String k : target.keySet()) if (!source.containsKey(k) && !skip.contains(k)) missing.add(k);
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            if (skip.contains(e.getKey())) continue;
            Tensor t = target.get(e.getKey());
            if (t == null) unexpected.add(e.getKey());
            else if (!shapesCompatible(t, e.getValue())) mismatched.add(new Mismatch(e.getKey(), t.shape(), e.getValue().shape()));
            else loaded.add(e.getKey());
        }
        return new LoadReport(loaded, missing, unexpected, mismatched, reset);
    }

    /** Copies the tensors {@code plan} lists as loaded. */
    private static LoadReport copy(VisionModel model, Map<String, Tensor> source, LoadReport plan) {
        model.unfreeze(); // packed copies of the old weights must not outlive them
        Map<String, Tensor> target = model.stateDict();
        for (String k : plan.loaded()) {
            Tensor t = target.get(k);
            System.arraycopy(source.get(k).data, 0, t.data, 0, t.numel());
        }
        return plan;
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

    private static final java.util.regex.Pattern LEVEL_BLOCK = java.util.regex.Pattern.compile("levels\\.(\\d)\\.blocks\\.(\\d+)\\..*");

    /**
     * The registered hierarchical models whose architecture {@code tensors} fit: stem widths, blocks per level and
     * whether layer scale is present. Attention heads and window sizes leave no trace in the shapes, so variants that
     * differ only there (mambavision_l2 and mambavision_l2_512) all fit. Empty when the tensors are not a hierarchical
     * MambaVision.
     */
    public static List<String> hierarchicalModelsFitting(Map<String, Tensor> tensors) {
        Tensor stem0 = tensors.get("patch_embed.conv_down.0.weight"), stem3 = tensors.get("patch_embed.conv_down.3.weight");
        if (stem0 == null || stem3 == null || stem0.rank() != 4 || stem3.rank() != 4) return List.of();
        int[] depths = new int[4];
        boolean layerScale = false;
        for (String k : tensors.keySet()) {
            java.util.regex.Matcher m = LEVEL_BLOCK.matcher(k);
            if (m.matches() && Integer.parseInt(m.group(1)) < 4) {
                int level = Integer.parseInt(m.group(1));
                depths[level] = Math.max(depths[level], Integer.parseInt(m.group(2)) + 1);
            }
            layerScale |= k.endsWith(".gamma_1");
        }
        List<String> out = new ArrayList<>();
        for (String name : ModelRegistry.names()) {
            if (ModelRegistry.isFlat(name)) continue;
            org.mambavision.models.mambavision.MambaVisionConfig c = ModelRegistry.hierarchicalConfig(name);
            if (c.inDim() == stem0.dim(0) && c.dim() == stem3.dim(0) && Arrays.equals(c.depths(), depths)
                    && (c.layerScale() != null) == layerScale) {
                out.add(name);
            }
        }
        return out;
    }
}
