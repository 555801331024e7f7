package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigException;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;

/**
 * Every config key takes effect: each key, set to a value other than its default, changes something a user can
 * observe in a (tiny) training run: the metrics, the trained weights, the files written, the run directory or the
 * run's summary line; or, where a key cannot apply (a flat-model key on a hierarchical model), it is refused.
 *
 * <p>The table {@link #ROWS} has at least one row per key of {@link TrainConfig#KEY_NAMES}: a key added to the config
 * without a row fails {@link #everyKeyHasARow}, naming it.
 */
class ConfigKeysTakeEffectTest {
    /** What the run with the key changed must show, compared with the same run without it. */
    @FunctionalInterface
    interface Expectation {
        void check(Run base, Run changed);
    }

    /**
     * One check: {@code key=value} on top of the tiny base config plus {@code context} (other keys the key needs to
     * matter, e.g. momentum only acts with optimizer sgd). {@code value} may depend on files the test makes.
     * {@code expect} null means the key must be refused.
     */
    record Row(String key, Function<Fixtures, Object> value, List<String> context, Expectation expect, Scenario scenario) {
        Row(String key, Function<Fixtures, Object> value, List<String> context, Expectation expect) {
            this(key, value, List.copyOf(context), expect, null);
        }

        @Override
        public String toString() {
            return key + (context.isEmpty() ? "" : " with " + String.join(", ", context));
        }
    }

    static Row changes(String key, Object value, String... context) {
        return new Row(key, f -> value, List.of(context), ConfigKeysTakeEffectTest::differs);
    }

    static Row changes(String key, Function<Fixtures, Object> value, String... context) {
        return new Row(key, value, List.of(context), ConfigKeysTakeEffectTest::differs);
    }

    static Row refused(String key, Object value, String... context) {
        return new Row(key, f -> value, List.of(context), null);
    }

    static Row custom(String key, Function<Fixtures, Object> value, Expectation expect, String... context) {
        return new Row(key, value, List.of(context), expect);
    }

    /** A key whose effect needs a scenario of its own (e.g. it only matters when another setting fails). */
    @FunctionalInterface
    interface Scenario {
        void check(Fixtures f) throws Exception;
    }

    static Row scenario(String key, Scenario s) {
        return new Row(key, f -> null, List.of(), null, s);
    }

    static void differs(Run base, Run changed) {
        assertNotEquals(base, changed, "the run did not change");
    }

    /** Keys whose numbers are the same by design (only speed, memory or threads differ): same losses, accepted. */
    static Expectation sameNumbersByDesign(String why) {
        return (base, changed) -> {
            assertEquals(base.metrics.size(), changed.metrics.size(), why);
            for (int i = 0; i < base.metrics.size(); i++) {
                for (String k : List.of("train_loss", "val_loss")) {
                    double a = ((Number) base.metrics.get(i).get(k)).doubleValue(), b = ((Number) changed.metrics.get(i).get(k)).doubleValue();
                    assertEquals(a, b, 1e-4 * Math.abs(a), k + " (" + why + ")");
                }
            }
        };
    }

    private static final String FOLDER = "dataset=imagefolder";

    /** One row per key at least; keep in the order of TrainConfig.KEY_NAMES where possible. */
    static final List<Row> ROWS = List.of(
            changes("model", "flat_small"),
            changes("num_classes", 5),
            changes("img_size", 24),
            changes("in_chans", 1),
            changes("dataset", "fake"),
            changes("data_dir", f -> f.folderB, FOLDER, "num_classes=2"),
            changes("dataset_size", 40),
            changes("train_split", 0.5),
            changes("augment", false),
            changes("batch_size", 4),
            changes("epochs", 2),
            changes("lr", 0.01),
            changes("min_lr", 1e-4),
            changes("weight_decay", 0.5),
            changes("optimizer", "sgd"),
            changes("optimizer", "lamb"),
            changes("momentum", 0.5, "optimizer=sgd"),
            changes("nesterov", true, "optimizer=sgd"),
            refused("nesterov", true, "optimizer=adamw"),
            changes("betas", List.of(0.5, 0.9)),
            changes("eps", 0.5),
            changes("scheduler", "step"),
            changes("scheduler", "constant"),
            changes("warmup_epochs", 1),
            changes("warmup_lr", 1e-4, "warmup_epochs=1"),
            changes("step_size", 1, "scheduler=step", "epochs=2"),
            changes("gamma", 0.5, "scheduler=step", "step_size=1", "epochs=2"),
            changes("grad_clip", 1e-3, "optimizer=sgd"),
            changes("accumulation_steps", 2),
            changes("label_smoothing", 0.0),
            changes("mixup", 0.5),
            changes("cutmix", 0.5),
            changes("mixup_prob", 0.0, "mixup=0.5"),
            changes("mixup_switch_prob", 1.0, "mixup=0.5", "cutmix=0.5", "batch_size=2"),
            changes("randaugment", "rand-m9-n2"),
            changes("color_jitter", 0.4),
            changes("hflip", 0.0),
            changes("rotation", 30.0),
            changes("random_erasing", 0.5),
            changes("interpolation", "nearest", FOLDER, "num_classes=2"),
            changes("interpolation", "bilinear", FOLDER, "num_classes=2"),
            changes("ema", true),
            changes("ema_decay", 0.5, "ema=true"),
            changes("drop_path_rate", 0.5),
            changes("layer_scale", 1e-5),
            changes("mamba_ratio", 1.0),
            refused("mamba_ratio", 1.0, "model=mambavision_mini"),
            changes("d_state", 8),
            refused("d_state", 8, "model=mambavision_mini"),
            changes("depth", 3),
            refused("depth", 3, "model=mambavision_mini"),
            changes("patch_size", 4),
            refused("patch_size", 4, "model=mambavision_mini"),
            custom("gradient_checkpointing", f -> true, sameNumbersByDesign("recomputes activations instead of keeping them")),
            custom("data_parallel", f -> false, (base, changed) -> {
                sameNumbersByDesign("the same step, split over the cores").check(base, changed);
                if (org.mambavision.engine.Parallel.threads() > 1) differs(base, changed); // the summary line names the shards
            }),
            custom("num_workers", f -> 2, sameNumbersByDesign("the same batches, loaded on more threads")),
            changes("seed", 7),
            changes("save_dir", f -> f.dir.resolve("elsewhere").toString()),
            changes("name", "other"),
            changes("visualize", true),
            changes("tensorboard", true),
            changes("eval_every", 2, "epochs=2"),
            changes("pretrained", f -> f.pretrained),
            scenario("pretrained_strict", f -> {
                // a file whose backbone does not match (three blocks for a two-block model): an error by default...
                List<String> mismatched = List.of("pretrained=" + f.pretrainedDeeper.replace('\\', '/'));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(mismatched));
                assertTrue(e.getMessage().contains("pretrained_strict: false"), e.getMessage());
                // ...and with pretrained_strict: false the matching tensors load and the run goes on
                List<String> lenient = new ArrayList<>(mismatched);
                lenient.add("pretrained_strict=false");
                differs(baseRun(List.of()), run(lenient));
            }),
            changes("freeze", "backbone"),
            changes("layer_decay", 0.5),
            changes("log_every", 1, "tensorboard=true"),
            changes("max_image_pixels", 400, FOLDER, "num_classes=2"),
            custom("resume", f -> f.oneEpochRun, (base, changed) -> {
                assertTrue(changed.runDir.contains("resumed"), "continues in the resumed run's folder: " + changed.runDir);
                assertEquals(2, changed.metrics.size(), "the resumed run adds its second epoch to the first");
                sameNumbersByDesign("exact resume: the same numbers as the uninterrupted run").check(base, changed);
            }, "epochs=2", "scheduler=constant"));

    /** The tiny run every row starts from. */
    static final List<String> BASE = List.of("model=flat_tiny", "depth=2", "img_size=16", "patch_size=8", "dataset_size=24",
            "batch_size=8", "epochs=1", "num_workers=0", "warmup_epochs=0", "visualize=false", "tensorboard=false");

    @Test
    void everyKeyHasARow() {
        Set<String> covered = new LinkedHashSet<>();
        for (Row r : ROWS) covered.add(r.key());
        List<String> missing = new ArrayList<>(TrainConfig.KEY_NAMES);
        missing.removeAll(covered);
        List<String> unknown = new ArrayList<>(covered);
        unknown.removeAll(TrainConfig.KEY_NAMES);
        if (!missing.isEmpty() || !unknown.isEmpty()) {
            fail((missing.isEmpty() ? "" : "config keys without a row in ConfigKeysTakeEffectTest.ROWS (add one: a non-default value "
                    + "and what it changes, or refused(...) where it cannot apply): " + String.join(", ", missing) + ". ")
                    + (unknown.isEmpty() ? "" : "rows for keys TrainConfig does not have: " + String.join(", ", unknown)));
        }
    }

    /** Files some rows need: two image folders, a weights file, a finished one-epoch run. */
    static final class Fixtures {
        final Path dir;
        final String folderA, folderB;
        String pretrained, pretrainedDeeper, oneEpochRun;

        Fixtures(Path dir) throws IOException {
            this.dir = dir;
            folderA = imageFolder(dir.resolve("folder-a"), 1).toString();
            folderB = imageFolder(dir.resolve("folder-b"), 2).toString();
        }
    }

    static Path imageFolder(Path root, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        for (String cls : List.of("cat", "dog")) {
            Files.createDirectories(root.resolve(cls));
            for (int i = 0; i < 6; i++) {
                int w = i == 0 ? 24 : 20, h = i == 0 ? 20 : 18; // 480 pixels for the first: max_image_pixels can leave it out
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
                ImageIO.write(img, "png", root.resolve(cls).resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    @TempDir
    static Path tmp;
    private static Fixtures fixtures;
    private static final Map<List<String>, Run> BASE_RUNS = new HashMap<>();
    private static int runs;

    static synchronized Fixtures fixtures() throws Exception {
        if (fixtures == null) {
            Fixtures f = new Fixtures(tmp);
            Path weights = tmp.resolve("pretrained.safetensors");
            Weights.save(ModelRegistry.create("flat_tiny", new ModelOptions(3, 10, null, null, 16, 2, null, null, 8, 99)), weights, Map.of());
            f.pretrained = weights.toString();
            Path deeper = tmp.resolve("pretrained-deeper.safetensors");
            Weights.save(ModelRegistry.create("flat_tiny", new ModelOptions(3, 10, null, null, 16, 3, null, null, 8, 99)), deeper, Map.of());
            f.pretrainedDeeper = deeper.toString();
            f.oneEpochRun = run(List.of("save_dir=" + tmp.resolve("resumed").toString().replace('\\', '/'), "scheduler=constant")).runDir;
            fixtures = f;
        }
        return fixtures;
    }

    /**
     * What a run shows: its folder (save_dir relative to the test's own, name without the time stamp), the files it
     * wrote, its metrics without timings, a digest of the trained weights and the run's summary line.
     */
    record Run(String runDir, Set<String> files, List<Map<String, Object>> metrics, int weightsDigest, String summary, int stepScalars) {}

    static Run run(List<String> sets) throws Exception {
        Path saveDir = tmp.resolve("run" + (runs++));
        List<String> all = new ArrayList<>(BASE);
        all.add("save_dir=" + saveDir.toString().replace('\\', '/'));
        all.addAll(sets);
        TrainConfig c = ConfigLoader.load(null, all);
        List<String> log = new ArrayList<>();
        Trainer.Result r = new Trainer(c, log::add, false).run();
        Path dir = r.runDir();
        String where = dir.getParent().equals(saveDir) ? "" : dir.getParent() + "/";
        Set<String> files = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> files.add(p.getFileName().toString().replaceAll("^events\\.out\\.tfevents\\..*", "events.out.tfevents")));
        }
        List<Map<String, Object>> metrics = new ArrayList<>();
        for (Map<String, Object> row : MetricsLog.read(dir)) {
            Map<String, Object> m = new LinkedHashMap<>(row);
            m.remove("images_per_sec");
            m.remove("epoch_seconds");
            metrics.add(m);
        }
        int digest = 0;
        for (Map.Entry<String, Tensor> e : TrainCheckpoint.read(dir.resolve(RunTracker.LAST)).model().entrySet()) {
            digest = 31 * digest + e.getKey().hashCode() + Arrays.hashCode(e.getValue().data);
        }
        String summary = log.stream().filter(l -> l.startsWith("model ")).findFirst().orElse("").replaceAll("; run dir .*", "");
        String name = dir.getFileName().toString().replaceAll("-\\d{8}-\\d{6}(-\\d+)?$", "");
        return new Run(where.isEmpty() ? name : dir.toString(), files, metrics, digest, summary, stepScalars(dir));
    }

    /** How many per-step TensorBoard scalars the run wrote (their tags appear once per record). */
    static int stepScalars(Path dir) throws IOException {
        int n = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents")).toList()) {
                String text = new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1);
                for (int i = text.indexOf("train_step/"); i >= 0; i = text.indexOf("train_step/", i + 1)) n++;
            }
        }
        return n;
    }

    static synchronized Run baseRun(List<String> context) throws Exception {
        Run r = BASE_RUNS.get(context);
        if (r == null) {
            r = run(context);
            BASE_RUNS.put(context, r);
        }
        return r;
    }

    static List<String> withFolder(List<String> context, Fixtures f) {
        List<String> out = new ArrayList<>(context);
        if (context.contains(FOLDER)) out.add("data_dir=" + f.folderA.replace('\\', '/'));
        return out;
    }

    static String yaml(Object v) {
        if (v instanceof List<?> l) return l.toString();
        return String.valueOf(v).replace('\\', '/');
    }

    @TestFactory
    Stream<DynamicTest> eachKeyTakesEffectOrIsRefused() {
        return ROWS.stream().map(row -> DynamicTest.dynamicTest(row.toString(), () -> {
            Fixtures f = fixtures();
            if (row.scenario() != null) {
                row.scenario().check(f);
                return;
            }
            List<String> context = withFolder(row.context(), f);
            List<String> changed = new ArrayList<>(context);
            changed.add(row.key() + "=" + yaml(row.value().apply(f)));
            if (row.expect() == null) { // on the defaults: the base's flat-model keys would be refused themselves
                ConfigLoader.load(null, context);
                ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, changed), row + ": must be refused");
                assertEquals(row.key(), e.key(), e.getMessage());
                return;
            }
            Run base = baseRun(context), after = run(changed);
            try {
                row.expect().check(base, after);
            } catch (AssertionError e) {
                throw new AssertionError("config key " + row + ": " + e.getMessage(), e);
            }
        }));
    }

    @Test
    void theBaseRunIsRepeatable() throws Exception {
        assertEquals(run(List.of()), run(List.of()), "two identical runs must match, or 'changes' proves nothing");
    }
}
