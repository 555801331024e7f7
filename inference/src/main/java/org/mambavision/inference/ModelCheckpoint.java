package org.mambavision.inference;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.CheckpointFormatException;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;

/**
 * The model part of a training checkpoint (one safetensors file written by the training module): the model's
 * tensors under their official names, the architecture ({@link ModelSpec}), class names and the run's evaluation
 * preprocessing as metadata. Optimizer state ({@value #OPTIMIZER_PREFIX}) and the EMA ({@value #EMA_PREFIX}) sit in
 * the same file; inference reads only what it needs.
 */
public final class ModelCheckpoint {
    public static final String FORMAT = "mambavision-train-checkpoint-v1";
    public static final String OPTIMIZER_PREFIX = "optimizer.", EMA_PREFIX = "ema.";
    public static final String CLASS_NAMES = "class_names";
    /** The model-name key, in our checkpoints and in weights written by {@code convert}. */
    public static final String MODEL = "model";

    /**
     * A model rebuilt for inference.
     *
     * @param preprocessing the run's evaluation preprocessing, or null for a checkpoint that does not record it
     */
    public record Loaded(ModelSpec spec, VisionModel model, List<String> classNames, EvalPreprocessing preprocessing,
                         Map<String, String> metadata) {}

    private ModelCheckpoint() {}

    /** True for a file in our format; a torch zip or a foreign safetensors file is not. */
    public static boolean isCheckpoint(Path file) throws IOException {
        return FORMAT.equals(safetensorsMetadata(file).get("format"));
    }

    /** A safetensors file's metadata; empty for other files (a torch checkpoint, a file that is no weights file). */
    public static Map<String, String> safetensorsMetadata(Path file) throws IOException {
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 2) < 2 || (head[0] == 'P' && head[1] == 'K')) return Map.of();
        }
        try (Safetensors st = Safetensors.open(file)) {
            return st.metadata();
        } catch (CheckpointFormatException e) {
            return Map.of(); // the weight loader will say what the file is
        }
    }

    /** Rebuilds the model (the EMA weights if the checkpoint has them and {@code preferEma}), in eval mode. */
    public static Loaded load(Path file, boolean preferEma) throws IOException {
        try (Safetensors st = Safetensors.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointFormatException(file, "not a MambaVision training checkpoint (format '" + meta.get("format") + "')");
            }
            boolean ema = preferEma && st.names().stream().anyMatch(k -> k.startsWith(EMA_PREFIX));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String k : st.names()) {
                if (ema && k.startsWith(EMA_PREFIX)) tensors.put(k.substring(EMA_PREFIX.length()), st.tensor(k));
                else if (!ema && !k.startsWith(EMA_PREFIX) && !k.startsWith(OPTIMIZER_PREFIX)) tensors.put(k, st.tensor(k));
            }
            ModelSpec spec;
            VisionModel m;
            EvalPreprocessing pre;
            try {
                spec = ModelSpec.fromMetadata(meta, file.toString());
                m = spec.create(0);
                Weights.load(m, tensors, true);
                pre = EvalPreprocessing.fromMetadata(meta, file.toString());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, e.getMessage());
            }
            m.train(false);
            List<String> names = classNames(meta);
            return new Loaded(spec, m, names.size() == m.numClasses() ? names : indexNames(m.numClasses()), pre, meta);
        }
    }

    public static List<String> classNames(Map<String, String> meta) {
        String names = meta.getOrDefault(CLASS_NAMES, "");
        return names.isEmpty() ? new ArrayList<>() : new ArrayList<>(Arrays.asList(names.split("\n", -1)));
    }

    /** class_0, class_1, ... for models without class names. */
    public static List<String> indexNames(int n) {
        List<String> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) l.add("class_" + i);
        return l;
    }
}
