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

    /**
     * Where a run stands when its checkpoint is written: the next epoch and loader batch ({@code batch > 0}:
     * mid-epoch, after {@code batch} batches of {@code batchSize} images, with that part's loss sum, hits and
     * images), the optimizer's step count, the best validation top-1 with its loss (ties in top-1 go to the lower
     * loss), and the drop-path generator's seed and call count.
     */
    public record Position(int epoch, int batch, int batchSize, long optimizerSteps, double bestTop1, double bestValLoss,
                           long dropPathSeed, long dropPathCalls, double epochLossSum, long epochCorrect, long epochSeen) {
        static final String EPOCH = "epoch", BATCH = "batch", BATCH_SIZE = "batch_size", OPTIMIZER_STEPS = "optimizer_steps",
                BEST_TOP1 = "best_top1", BEST_VAL_LOSS = "best_val_loss", SD_SEED = "sd_seed", SD_CALLS = "sd_calls",
                EPOCH_LOSS_SUM = "epoch_loss_sum", EPOCH_CORRECT = "epoch_correct", EPOCH_SEEN = "epoch_seen";

        /** The position as checkpoint info entries (read back by {@link #of}). */
        public Map<String, String> toInfo() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(EPOCH, Integer.toString(epoch));
            m.put(BATCH, Integer.toString(batch));
            m.put(BATCH_SIZE, Integer.toString(batchSize));
            m.put(OPTIMIZER_STEPS, Long.toString(optimizerSteps));
            m.put(BEST_TOP1, Double.toString(bestTop1));
            m.put(BEST_VAL_LOSS, Double.toString(bestValLoss));
            m.put(SD_SEED, Long.toString(dropPathSeed));
            m.put(SD_CALLS, Long.toString(dropPathCalls));
            if (batch > 0) {
                m.put(EPOCH_LOSS_SUM, Double.toString(epochLossSum));
                m.put(EPOCH_CORRECT, Long.toString(epochCorrect));
                m.put(EPOCH_SEEN, Long.toString(epochSeen));
            }
            return m;
        }

        /**
         * Reads and checks the position in {@code info}; a missing or malformed key is an error naming {@code file}
         * and the key. Checkpoints written before {@code batch_size} and {@code best_val_loss} were recorded read
         * those as 0 (unknown) and infinity.
         */
        public static Position of(Map<String, String> info, Path file) throws CheckpointFormatException {
            int batch = (int) integer(info, BATCH, file, true, Integer.MAX_VALUE);
            boolean midEpoch = batch > 0;
            return new Position((int) integer(info, EPOCH, file, true, Integer.MAX_VALUE), batch,
                    (int) integer(info, BATCH_SIZE, file, false, Integer.MAX_VALUE), integer(info, OPTIMIZER_STEPS, file, true, Long.MAX_VALUE),
                    real(info, BEST_TOP1, file, true, -1), real(info, BEST_VAL_LOSS, file, false, Double.POSITIVE_INFINITY),
                    integer(info, SD_SEED, file, true, Long.MAX_VALUE, Long.MIN_VALUE), integer(info, SD_CALLS, file, true, Long.MAX_VALUE),
                    midEpoch ? real(info, EPOCH_LOSS_SUM, file, true, 0) : 0, midEpoch ? integer(info, EPOCH_CORRECT, file, true, Long.MAX_VALUE) : 0,
                    midEpoch ? integer(info, EPOCH_SEEN, file, true, Long.MAX_VALUE) : 0);
        }

        private static long integer(Map<String, String> info, String key, Path file, boolean required, long max) throws CheckpointFormatException {
            return integer(info, key, file, required, max, 0);
        }

        private static long integer(Map<String, String> info, String key, Path file, boolean required, long max, long min)
                throws CheckpointFormatException {
            String v = value(info, key, file, required);
            if (v == null) return 0;
            try {
                long n = Long.parseLong(v.strip());
                if (n >= min && n <= max) return n;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new CheckpointFormatException(file, "info." + key + " is '" + v + "', expected an integer in [" + min + ", " + max
                    + "]; the checkpoint is damaged or not written by this trainer");
        }

        private static double real(Map<String, String> info, String key, Path file, boolean required, double absent) throws CheckpointFormatException {
            String v = value(info, key, file, required);
            if (v == null) return absent;
            try {
                double d = Double.parseDouble(v.strip());
                if (!Double.isNaN(d)) return d;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new CheckpointFormatException(file, "info." + key + " is '" + v + "', expected a number; the checkpoint is damaged or not written by this trainer");
        }

        private static String value(Map<String, String> info, String key, Path file, boolean required) throws CheckpointFormatException {
            String v = info.get(key);
            if (v == null && required) {
                throw new CheckpointFormatException(file, "info." + key + " is missing: not a resumable training checkpoint (keys present: "
                        + String.join(", ", info.keySet().stream().filter(k -> !k.equals("config")).toList()) + ")");
            }
            return v;
        }
    }

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
