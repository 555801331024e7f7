package org.mambavision.training.config;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.mambavision.inference.image.Resample;
import org.mambavision.models.ModelRegistry;
import org.mambavision.training.data.Datasets;
import org.mambavision.training.optim.LrSchedules;
import org.mambavision.training.optim.Optimizers;

/**
 * Everything a training run can be configured with. Public fields carry the defaults; {@link #KEY_NAMES} gives
 * the YAML key of each (snake_case, in this order), {@link #set} converts and range-checks one value, and
 * {@link #validate} checks what involves several keys. Load from YAML with {@link ConfigLoader}.
 *
 * <p>Accuracy-like and probability keys are fractions in [0, 1]; {@code lr}-like keys are absolute values.
 */
public final class TrainConfig {
    // ---- model
    public String model = "flat_tiny";
    /** Number of classes; null: the dataset's own (generated datasets: {@link #GENERATED_CLASSES}). */
    public Integer numClasses = null;
    public int imgSize = 64;
    public int inChans = 3;
    // ---- data
    public String dataset = "synthetic";
    public String dataDir = null;
    public int datasetSize = 2000;
    /** Images whose header declares more pixels are skipped undecoded (PIL's decompression-bomb threshold). */
    public long maxImagePixels = org.mambavision.inference.image.Images.DEFAULT_MAX_PIXELS;
    public double trainSplit = 0.8;
    public boolean augment = true;
    public int batchSize = 32;
    public int epochs = 5;
    // ---- optimisation
    public double lr = 1e-3;
    public double minLr = 1e-5;
    public double weightDecay = 0.05;
    public String optimizer = "adamw";
    public double momentum = 0.9;
    public boolean nesterov = false;
    public double[] betas = {0.9, 0.999};
    public double eps = 1e-8;
    public String scheduler = "cosine";
    public int warmupEpochs = 1;
    public double warmupLr = 1e-6;
    public int stepSize = 30;
    public double gamma = 0.1;
    /** Max global gradient norm; 0 disables clipping. */
    public double gradClip = 0;
    public int accumulationSteps = 1;
    // ---- regularisation and augmentation
    public double labelSmoothing = 0.1;
    public double mixup = 0.0;
    public double cutmix = 0.0;
    public double mixupProb = 1.0;
    public double mixupSwitchProb = 0.5;
    /** timm-style RandAugment spec, e.g. "rand-m9-mstd0.5-inc1"; null disables it. */
    public String randaugment = null;
    public double colorJitter = 0.0;
    public double hflip = 0.5;
    /** Maximum random rotation in degrees. */
    public double rotation = 0.0;
    public double randomErasing = 0.0;
    public String interpolation = "bicubic";
    public boolean ema = false;
    public double emaDecay = 0.9998;
    public double dropPathRate = 0.1;
    /** Initial layer-scale value (gamma_1, gamma_2); null: no layer scale. */
    public Double layerScale = null;
    // ---- flat hybrid model shape
    public double mambaRatio = 0.5;
    public int dState = 16;
    /** Number of blocks; null: the model size's default. */
    public Integer depth = null;
    public int patchSize = 16;
    public boolean gradientCheckpointing = false;
    /** Split each batch over the cores, one model replica per core, where the model has no BatchNorm (see TrainStep). */
    public boolean dataParallel = true;
    // ---- run
    public int numWorkers = 2;
    public long seed = 42;
    public String saveDir = "runs";
    /** Run name (directory under save_dir); null: generated. */
    public String name = null;
    public boolean visualize = true;
    public boolean tensorboard = true;
    /** Per-step TensorBoard scalars (train loss, lr) every this many optimizer steps; 0: per epoch only. */
    public int logEvery = 50;
    public int evalEvery = 1;
    /** Weights file to start from. */
    public String pretrained = null;
    /** A pretrained backbone that does not match the model is an error (false: load what matches, report the rest). */
    public boolean pretrainedStrict = true;
    /** none, or backbone: only the classifier head trains (linear probing). */
    public String freeze = "none";
    /** Layer-wise learning-rate decay in (0, 1]; null or 1: off. */
    public Double layerDecay = null;
    /** Checkpoint or run directory to resume. */
    public String resume = null;

    /** {@code interpolation}: the names of {@link Resample.Filter}, lower case. */
    private static final List<String> INTERPOLATIONS =
            Arrays.stream(Resample.Filter.values()).map(f -> f.name().toLowerCase(Locale.ROOT)).toList();
    /** Keys that shape the flat hybrid only; a hierarchical model's shape is fixed by its variant. */
    static final List<String> FLAT_MODEL_KEYS = List.of("mamba_ratio", "d_state", "depth", "patch_size");
    /** {@code model_size} is an alias: tiny and small select flat_tiny and flat_small. */
    public static final List<String> MODEL_SIZES = List.of("tiny", "small");
    public static final List<String> FREEZE = List.of("none", "backbone");
    /** Classes of the generated datasets (synthetic, fake) when num_classes is not set. */
    public static final int GENERATED_CLASSES = 10;
    private static final Pattern RANDAUGMENT = Pattern.compile("rand(-(m|n|mstd|mmax|inc|p|w)[0-9]+(\\.[0-9]*)?)*");

    public static TrainConfig defaults() {
        return new TrainConfig();
    }

    public TrainConfig copy() {
        TrainConfig c = new TrainConfig();
        for (Key<?> k : KEYS) k.copy(this, c);
        return c;
    }

    /** All keys and their current values, in the documented order (betas as a List). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Key<?> k : KEYS) m.put(k.name, k.external(this));
        return m;
    }

    /** The current value of {@code key} as it would appear in YAML. */
    public Object get(String key) {
        return key(key, "").external(this);
    }

    /**
     * Sets one key from a YAML value (Integer/Long/Double/Boolean/String/List/null), converting and checking
     * it. Keys may use '-' for '_'. {@code model_size: tiny|small} sets {@code model}.
     *
     * @param source where the key came from, for the unknown-key message (a file name, "--set")
     * @throws ConfigException naming the key and the problem
     */
    public TrainConfig set(String key, Object value, String source) {
        String k = key.strip().replace('-', '_');
        if (k.equals("model_size")) {
            String size = choice("model_size", value, MODEL_SIZES);
            model = "flat_" + size;
            return this;
        }
        key(k, source).assign(this, value);
        return this;
    }

    /** {@code --set key=value}: the value is parsed as a YAML scalar or flow list ("[0.9, 0.999]"). */
    public TrainConfig apply(String keyEqualsValue) {
        ConfigLoader.apply(this, keyEqualsValue);
        return this;
    }

    /** Checks involving several keys; single-key ranges are checked by {@link #set}. */
    public TrainConfig validate() {
        if (minLr > lr) {
            throw new ConfigException("config key 'min_lr': " + fmt(minLr) + " is larger than lr " + fmt(lr), "min_lr");
        }
        if (dataset.equals("imagefolder") && dataDir == null) {
            throw new ConfigException("config key 'data_dir': dataset 'imagefolder' needs a data_dir", "data_dir");
        }
        if (nesterov && !optimizer.equals("sgd")) {
            throw new ConfigException("config key 'nesterov': applies to optimizer sgd only, but optimizer is '" + optimizer + "'", "nesterov");
        }
        if (nesterov && momentum == 0) {
            throw new ConfigException("config key 'nesterov': Nesterov momentum needs momentum > 0, got momentum 0", "nesterov");
        }
        boolean flat;
        try {
            flat = ModelRegistry.isFlat(model);
        } catch (IllegalArgumentException unknown) {
            throw new ConfigException("config key 'model': " + unknown.getMessage(), "model");
        }
        if (!flat) {
            TrainConfig d = defaults();
            for (String k : FLAT_MODEL_KEYS) {
                if (!Objects.equals(get(k), d.get(k))) {
                    String flatModels = String.join(", ", ModelRegistry.names().stream().filter(ModelRegistry::isFlat).toList());
                    throw new ConfigException("config key '" + k + "': applies to the flat models (" + flatModels + ") only; '"
                            + model + "' is hierarchical and its shape is fixed by the variant (remove " + k
                            + (d.get(k) == null ? "" : " or set it to " + d.get(k)) + ")", k);
                }
            }
        }
        return this;
    }

    /** Directory of this run: save_dir/name. */
    public Path runDir(String fallbackName) {
        return Path.of(saveDir).resolve(name != null ? name : fallbackName);
    }

    @Override
    public String toString() {
        return toMap().toString();
    }

    // ------------------------------------------------------------------ key table

    private static final List<Key<?>> KEYS = List.of(
            str("model", c -> c.model, (c, v) -> c.model = v, TrainConfig::nonEmpty),
            optInt("num_classes", c -> c.numClasses, (c, v) -> c.numClasses = v, atLeast(1)),
            integer("img_size", c -> c.imgSize, (c, v) -> c.imgSize = v, atLeast(1)),
            integer("in_chans", c -> c.inChans, (c, v) -> c.inChans = v, atLeast(1)),
            choice("dataset", Datasets.NAMES, c -> c.dataset, (c, v) -> c.dataset = v),
            optStr("data_dir", c -> c.dataDir, (c, v) -> c.dataDir = v),
            integer("dataset_size", c -> c.datasetSize, (c, v) -> c.datasetSize = v, atLeast(1)),
            longInt("max_image_pixels", c -> c.maxImagePixels, (c, v) -> c.maxImagePixels = v, v -> v >= 1 ? null : "must be >= 1"),
            real("train_split", c -> c.trainSplit, (c, v) -> c.trainSplit = v, open(0, 1)),
            bool("augment", c -> c.augment, (c, v) -> c.augment = v),
            integer("batch_size", c -> c.batchSize, (c, v) -> c.batchSize = v, atLeast(1)),
            integer("epochs", c -> c.epochs, (c, v) -> c.epochs = v, atLeast(1)),
            real("lr", c -> c.lr, (c, v) -> c.lr = v, positive()),
            real("min_lr", c -> c.minLr, (c, v) -> c.minLr = v, nonNegative()),
            real("weight_decay", c -> c.weightDecay, (c, v) -> c.weightDecay = v, nonNegative()),
            choice("optimizer", Optimizers.NAMES, c -> c.optimizer, (c, v) -> c.optimizer = v),
            real("momentum", c -> c.momentum, (c, v) -> c.momentum = v, halfOpen(0, 1)),
            bool("nesterov", c -> c.nesterov, (c, v) -> c.nesterov = v),
            betas(),
            real("eps", c -> c.eps, (c, v) -> c.eps = v, positive()),
            choice("scheduler", LrSchedules.NAMES, c -> c.scheduler, (c, v) -> c.scheduler = v),
            integer("warmup_epochs", c -> c.warmupEpochs, (c, v) -> c.warmupEpochs = v, atLeast(0)),
            real("warmup_lr", c -> c.warmupLr, (c, v) -> c.warmupLr = v, nonNegative()),
            integer("step_size", c -> c.stepSize, (c, v) -> c.stepSize = v, atLeast(1)),
            real("gamma", c -> c.gamma, (c, v) -> c.gamma = v, positive()),
            real("grad_clip", c -> c.gradClip, (c, v) -> c.gradClip = v, nonNegative()),
            integer("accumulation_steps", c -> c.accumulationSteps, (c, v) -> c.accumulationSteps = v, atLeast(1)),
            real("label_smoothing", c -> c.labelSmoothing, (c, v) -> c.labelSmoothing = v, halfOpen(0, 1)),
            real("mixup", c -> c.mixup, (c, v) -> c.mixup = v, nonNegative()),
            real("cutmix", c -> c.cutmix, (c, v) -> c.cutmix = v, nonNegative()),
            real("mixup_prob", c -> c.mixupProb, (c, v) -> c.mixupProb = v, closed(0, 1)),
            real("mixup_switch_prob", c -> c.mixupSwitchProb, (c, v) -> c.mixupSwitchProb = v, closed(0, 1)),
            optStr("randaugment", c -> c.randaugment, (c, v) -> c.randaugment = v, TrainConfig::randAugmentSpec),
            real("color_jitter", c -> c.colorJitter, (c, v) -> c.colorJitter = v, nonNegative()),
            real("hflip", c -> c.hflip, (c, v) -> c.hflip = v, closed(0, 1)),
            real("rotation", c -> c.rotation, (c, v) -> c.rotation = v, closed(0, 180)),
            real("random_erasing", c -> c.randomErasing, (c, v) -> c.randomErasing = v, closed(0, 1)),
            choice("interpolation", INTERPOLATIONS, c -> c.interpolation, (c, v) -> c.interpolation = v),
            bool("ema", c -> c.ema, (c, v) -> c.ema = v),
            real("ema_decay", c -> c.emaDecay, (c, v) -> c.emaDecay = v, open(0, 1)),
            real("drop_path_rate", c -> c.dropPathRate, (c, v) -> c.dropPathRate = v, halfOpen(0, 1)),
            optReal("layer_scale", c -> c.layerScale, (c, v) -> c.layerScale = v, positive()),
            real("mamba_ratio", c -> c.mambaRatio, (c, v) -> c.mambaRatio = v, closed(0, 1)),
            integer("d_state", c -> c.dState, (c, v) -> c.dState = v, atLeast(1)),
            optInt("depth", c -> c.depth, (c, v) -> c.depth = v, atLeast(1)),
            integer("patch_size", c -> c.patchSize, (c, v) -> c.patchSize = v, atLeast(1)),
            bool("gradient_checkpointing", c -> c.gradientCheckpointing, (c, v) -> c.gradientCheckpointing = v),
            bool("data_parallel", c -> c.dataParallel, (c, v) -> c.dataParallel = v),
            integer("num_workers", c -> c.numWorkers, (c, v) -> c.numWorkers = v, atLeast(0)),
            longInt("seed", c -> c.seed, (c, v) -> c.seed = v),
            str("save_dir", c -> c.saveDir, (c, v) -> c.saveDir = v, TrainConfig::nonEmpty),
            optStr("name", c -> c.name, (c, v) -> c.name = v, TrainConfig::runName),
            bool("visualize", c -> c.visualize, (c, v) -> c.visualize = v),
            bool("tensorboard", c -> c.tensorboard, (c, v) -> c.tensorboard = v),
            integer("log_every", c -> c.logEvery, (c, v) -> c.logEvery = v, atLeast(0)),
            integer("eval_every", c -> c.evalEvery, (c, v) -> c.evalEvery = v, atLeast(1)),
            optStr("pretrained", c -> c.pretrained, (c, v) -> c.pretrained = v),
            bool("pretrained_strict", c -> c.pretrainedStrict, (c, v) -> c.pretrainedStrict = v),
            choice("freeze", FREEZE, c -> c.freeze, (c, v) -> c.freeze = v),
            optReal("layer_decay", c -> c.layerDecay, (c, v) -> c.layerDecay = v, leftOpen(0, 1)),
            optStr("resume", c -> c.resume, (c, v) -> c.resume = v));

    /** YAML keys in documented order. */
    public static final List<String> KEY_NAMES = KEYS.stream().map(k -> k.name).toList();

    static boolean isKey(String name) {
        return name.equals("model_size") || KEY_NAMES.contains(name);
    }

    private static Key<?> key(String name, String source) {
        for (Key<?> k : KEYS) if (k.name.equals(name)) return k;
        throw new ConfigException(unknownKeyMessage(name, source), name);
    }

    static String unknownKeyMessage(String name, String source) {
        String near = closest(name);
        return "unknown config key '" + name + "'" + (source == null || source.isEmpty() ? "" : " in " + source)
                + " (" + (near != null ? "did you mean '" + near + "'? " : "") + "valid keys: "
                + String.join(", ", KEY_NAMES) + ", model_size)";
    }

    /** The valid key nearest in edit distance, if near enough to be a plausible typo. */
    static String closest(String name) {
        String best = null;
        int bestDist = Integer.MAX_VALUE;
        List<String> all = new ArrayList<>(KEY_NAMES);
        all.add("model_size");
        for (String k : all) {
            int d = editDistance(name.toLowerCase(Locale.ROOT), k);
            if (d < bestDist) {
                bestDist = d;
                best = k;
            }
        }
        int allowed = Math.max(1, Math.min(3, name.length() / 3));
        return bestDist <= allowed ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** One key: name, YAML-to-Java conversion with range check, field access. */
    private static final class Key<T> {
        final String name;
        final Function<Object, T> convert; // throws ConfigException via bad()
        final Function<TrainConfig, T> get;
        final BiConsumer<TrainConfig, T> set;

        Key(String name, Function<Object, T> convert, Function<TrainConfig, T> get, BiConsumer<TrainConfig, T> set) {
            this.name = name;
            this.convert = convert;
            this.get = get;
            this.set = set;
        }

        void assign(TrainConfig c, Object raw) {
            set.accept(c, convert.apply(raw));
        }

        @SuppressWarnings("unchecked")
        void copy(TrainConfig from, TrainConfig to) {
            T v = get.apply(from);
            set.accept(to, v instanceof double[] a ? (T) a.clone() : v);
        }

        Object external(TrainConfig c) {
            T v = get.apply(c);
            if (v instanceof double[] a) return Arrays.stream(a).boxed().toList();
            return v;
        }
    }

    /** A range check: returns the complaint (e.g. "must be >= 1") or null if fine. */
    private interface Check<T> {
        String complaint(T value);
    }

    private static <T> Key<T> key(String name, Function<Object, T> convert, Check<T> check,
                                  Function<TrainConfig, T> get, BiConsumer<TrainConfig, T> set) {
        return new Key<>(name, raw -> {
            T v = convert.apply(raw);
            String complaint = v == null ? null : check.complaint(v);
            if (complaint != null) throw new ConfigException("config key '" + name + "': " + complaint + ", got "
                    + shown(raw), name);
            return v;
        }, get, set);
    }

    private static Key<Integer> integer(String n, Function<TrainConfig, Integer> g, BiConsumer<TrainConfig, Integer> s,
                                        Check<Integer> check) {
        return key(n, raw -> toInt(n, raw, false), check, g, s);
    }

    private static Key<Integer> optInt(String n, Function<TrainConfig, Integer> g, BiConsumer<TrainConfig, Integer> s,
                                       Check<Integer> check) {
        return key(n, raw -> toInt(n, raw, true), check, g, s);
    }

    private static Key<Long> longInt(String n, Function<TrainConfig, Long> g, BiConsumer<TrainConfig, Long> s) {
        return longInt(n, g, s, v -> null);
    }

    private static Key<Long> longInt(String n, Function<TrainConfig, Long> g, BiConsumer<TrainConfig, Long> s, Check<Long> check) {
        return key(n, raw -> {
            if (raw instanceof Integer || raw instanceof Long) return ((Number) raw).longValue();
            if (raw instanceof BigInteger b && b.bitLength() < 64) return b.longValue();
            throw bad(n, "an integer", raw);
        }, check, g, s);
    }

    private static Key<Double> real(String n, Function<TrainConfig, Double> g, BiConsumer<TrainConfig, Double> s,
                                    Check<Double> check) {
        return key(n, raw -> toDouble(n, raw, false), check, g, s);
    }

    private static Key<Double> optReal(String n, Function<TrainConfig, Double> g, BiConsumer<TrainConfig, Double> s,
                                       Check<Double> check) {
        return key(n, raw -> toDouble(n, raw, true), check, g, s);
    }

    private static Key<Boolean> bool(String n, Function<TrainConfig, Boolean> g, BiConsumer<TrainConfig, Boolean> s) {
        return key(n, raw -> {
            if (raw instanceof Boolean b) return b;
            throw bad(n, "true or false", raw);
        }, v -> null, g, s);
    }

    private static Key<String> str(String n, Function<TrainConfig, String> g, BiConsumer<TrainConfig, String> s,
                                   Check<String> check) {
        return key(n, raw -> toStr(n, raw, false), check, g, s);
    }

    private static Key<String> optStr(String n, Function<TrainConfig, String> g, BiConsumer<TrainConfig, String> s) {
        return optStr(n, g, s, v -> null);
    }

    private static Key<String> optStr(String n, Function<TrainConfig, String> g, BiConsumer<TrainConfig, String> s,
                                      Check<String> check) {
        return key(n, raw -> toStr(n, raw, true), check, g, s);
    }

    private static Key<String> choice(String n, List<String> choices, Function<TrainConfig, String> g,
                                      BiConsumer<TrainConfig, String> s) {
        return new Key<>(n, raw -> choice(n, raw, choices), g, s);
    }

    private static String choice(String n, Object raw, List<String> choices) {
        String v = toStr(n, raw, false);
        for (String c : choices) if (c.equalsIgnoreCase(v.strip())) return c;
        throw new ConfigException("config key '" + n + "': '" + v + "' is not one of " + String.join(", ", choices), n);
    }

    private static Key<double[]> betas() {
        String n = "betas";
        return new Key<>(n, raw -> {
            List<?> items = raw instanceof List<?> l ? l
                    : raw instanceof double[] a ? Arrays.stream(a).boxed().toList() : null;
            if (items == null || items.size() != 2 || !(items.get(0) instanceof Number) || !(items.get(1) instanceof Number)) {
                throw bad(n, "a list of two numbers like [0.9, 0.999]", raw);
            }
            double[] b = {((Number) items.get(0)).doubleValue(), ((Number) items.get(1)).doubleValue()};
            for (double x : b) {
                if (!(x >= 0 && x < 1)) {
                    throw new ConfigException("config key 'betas': each must be in [0, 1), got " + shown(raw), n);
                }
            }
            return b;
        }, c -> c.betas, (c, v) -> c.betas = v);
    }

    // ---- conversions

    private static Integer toInt(String n, Object raw, boolean nullable) {
        if (raw == null && nullable) return null;
        if (raw instanceof Integer i) return i;
        if ((raw instanceof Long || raw instanceof BigInteger) && ((Number) raw).longValue() == ((Number) raw).intValue()
                && !(raw instanceof BigInteger b && b.bitLength() >= 32)) {
            return ((Number) raw).intValue();
        }
        throw bad(n, nullable ? "an integer or null" : "an integer", raw);
    }

    private static Double toDouble(String n, Object raw, boolean nullable) {
        if (raw == null && nullable) return null;
        if (raw instanceof Number num && !(raw instanceof BigInteger b && b.bitLength() > 1000)) {
            double d = num.doubleValue();
            if (Double.isFinite(d)) return d;
            throw new ConfigException("config key '" + n + "': must be a finite number, got " + shown(raw), n);
        }
        throw bad(n, nullable ? "a number or null" : "a number", raw);
    }

    private static String toStr(String n, Object raw, boolean nullable) {
        if (raw == null && nullable) return null;
        // Unquoted YAML like "name: 2024" reads as a number; as a name it is meant as text.
        if (raw instanceof String s) return s;
        if (raw instanceof Number num) return num.toString();
        throw bad(n, nullable ? "a string or null" : "a string", raw);
    }

    private static ConfigException bad(String n, String expected, Object raw) {
        return new ConfigException("config key '" + n + "': expected " + expected + ", got " + shown(raw), n);
    }

    static String shown(Object v) {
        if (v == null) return "null";
        if (v instanceof Map<?, ?>) return "a mapping " + v;
        if (v instanceof Double d) return "'" + fmt(d) + "'";
        if (v instanceof double[] a) return "'" + Arrays.toString(a) + "'";
        return "'" + v + "'";
    }

    static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) + ".0" : Double.toString(d);
    }

    // ---- checks

    private static Check<Integer> atLeast(int min) {
        return v -> v >= min ? null : "must be >= " + min;
    }

    private static Check<Double> positive() {
        return v -> v > 0 ? null : "must be > 0";
    }

    private static Check<Double> nonNegative() {
        return v -> v >= 0 ? null : "must be >= 0";
    }

    private static Check<Double> open(double lo, double hi) {
        return v -> v > lo && v < hi ? null : "must be between " + lo + " and " + hi + " (exclusive)";
    }

    private static Check<Double> halfOpen(double lo, double hi) {
        return v -> v >= lo && v < hi ? null : "must be in [" + lo + ", " + hi + ")";
    }

    private static Check<Double> leftOpen(double lo, double hi) {
        return v -> v > lo && v <= hi ? null : "must be in (" + lo + ", " + hi + "]";
    }

    private static Check<Double> closed(double lo, double hi) {
        return v -> v >= lo && v <= hi ? null : "must be in [" + lo + ", " + hi + "]";
    }

    private static String nonEmpty(String s) {
        return s.isBlank() ? "must not be empty" : null;
    }

    private static String runName(String s) {
        if (s.isBlank()) return "must not be empty";
        return s.contains("/") || s.contains("\\") || s.equals("..") || s.equals(".")
                ? "must be a plain directory name (no / or \\)" : null;
    }

    private static String randAugmentSpec(String s) {
        return RANDAUGMENT.matcher(s).matches() ? null
                : "must look like 'rand-m9-mstd0.5' (rand, then -m<magnitude>, -n<ops>, -mstd<std>, -inc<0|1>, ...)";
    }
}
