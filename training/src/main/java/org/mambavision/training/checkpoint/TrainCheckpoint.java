package org.mambavision.training.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.CheckpointFormatException;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.inference.ModelSpec;

/**
 * Our training checkpoint: one safetensors file. The model's tensors keep their official names (so
 * the models' loader and PyTorch read the model part), optimizer state is under {@code optimizer.},
 * the EMA under {@code ema.}; everything else (epoch, step, RNG, config, class names) is metadata.
 * Written atomically: a crash leaves the previous checkpoint intact.
 */
public final class TrainCheckpoint {
    public static final String FORMAT = ModelCheckpoint.FORMAT;
    static final String OPT = ModelCheckpoint.OPTIMIZER_PREFIX, EMA = ModelCheckpoint.EMA_PREFIX;

    /** Everything a checkpoint holds. */
    public record State(ModelSpec spec, Map<String, Tensor> model, Map<String, Tensor> optimizer, Map<String, Tensor> ema,
                        List<String> classNames, Map<String, String> info, EvalPreprocessing preprocessing) {}

    private TrainCheckpoint() {}

    public static void save(Path file, State s) throws IOException {
        Map<String, Tensor> all = new LinkedHashMap<>(s.model());
        Set<String> ints = new LinkedHashSet<>();
        for (String k : s.model().keySet()) if (k.endsWith("num_batches_tracked")) ints.add(k);
        s.optimizer().forEach((k, v) -> all.put(OPT + k, v));
        if (s.ema() != null) s.ema().forEach((k, v) -> all.put(EMA + k, v));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.putAll(s.spec().toMetadata());
        meta.put(ModelCheckpoint.CLASS_NAMES, String.join("\n", s.classNames()));
        if (s.preprocessing() != null) meta.putAll(s.preprocessing().toMetadata());
        s.info().forEach((k, v) -> meta.put("info." + k, v));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Safetensors.write(file, all, ints, meta);
    }

    /** True for a file in our format; a torch zip or foreign safetensors file is not. */
    public static boolean isCheckpoint(Path file) throws IOException {
        return ModelCheckpoint.isCheckpoint(file);
    }

    public static State read(Path file) throws IOException {
        try (Safetensors st = Safetensors.open(file)) {
            Map<String, String> meta = st.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointFormatException(file, "not a MambaVision training checkpoint (format '" + meta.get("format") + "')");
            }
            ModelSpec spec;
            try {
                spec = ModelSpec.fromMetadata(meta, file.toString());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, e.getMessage());
            }
            Map<String, Tensor> model = new LinkedHashMap<>(), opt = new LinkedHashMap<>(), ema = new LinkedHashMap<>();
            for (String k : st.names()) {
                if (k.startsWith(OPT)) opt.put(k.substring(OPT.length()), st.tensor(k));
                else if (k.startsWith(EMA)) ema.put(k.substring(EMA.length()), st.tensor(k));
                else model.put(k, st.tensor(k));
            }
            Map<String, String> info = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                if (k.startsWith("info.")) info.put(k.substring(5), v);
            });
            EvalPreprocessing pre;
            try {
                pre = EvalPreprocessing.fromMetadata(meta, file.toString());
            } catch (IllegalArgumentException e) {
                throw new CheckpointFormatException(file, e.getMessage());
            }
            return new State(spec, model, opt, ema.isEmpty() ? null : ema, ModelCheckpoint.classNames(meta), info, pre);
        }
    }

    /** Rebuilds the model (EMA weights if the checkpoint has them and {@code preferEma}) for inference. */
    public static ModelCheckpoint.Loaded loadModel(Path file, boolean preferEma) throws IOException {
        return ModelCheckpoint.load(file, preferEma);
    }

    public static ModelCheckpoint.Loaded loadModel(Path file) throws IOException {
        return loadModel(file, false);
    }
}
