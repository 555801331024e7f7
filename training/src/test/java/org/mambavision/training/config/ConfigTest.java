package org.mambavision.training.config;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @TempDir
    Path tmp;

    private Path yaml(String text) throws IOException {
        return Files.writeString(tmp.resolve("cfg.yaml"), text);
    }

    private static String error(Runnable r) {
        return assertThrows(ConfigException.class, r::run).getMessage();
    }

    @Test
    void defaults() {
        TrainConfig c = TrainConfig.defaults();
        Map<String, Object> m = c.toMap();
        assertEquals(List.of("model", "num_classes", "img_size", "in_chans", "dataset", "data_dir"),
                List.copyOf(m.keySet()).subList(0, 6));
        assertEquals(List.of("eval_every", "pretrained", "pretrained_strict", "freeze", "layer_decay", "resume"),
                List.copyOf(m.keySet()).subList(m.size() - 6, m.size()));
        assertEquals(61, m.size());
        assertEquals(89_478_485L, m.get("max_image_pixels"));
        assertEquals(true, m.get("data_parallel"));
        assertEquals("flat_tiny", m.get("model"));
        assertEquals(32, m.get("batch_size"));
        assertEquals(1e-3, m.get("lr"));
        assertEquals(List.of(0.9, 0.999), m.get("betas"));
        assertEquals("adamw", c.optimizer);
        assertEquals("cosine", c.scheduler);
        assertEquals(0.8, c.trainSplit);
        assertEquals(42L, c.seed);
        assertEquals("runs", c.saveDir);
        assertNull(c.dataDir);
        assertNull(c.layerScale);
        assertNull(c.depth);
        assertNull(m.get("randaugment"));
        assertTrue(c.tensorboard && c.visualize && c.augment);
        assertFalse(c.ema || c.nesterov || c.gradientCheckpointing);
        assertEquals(0.9998, c.emaDecay);
        assertEquals(16, c.dState);
        assertEquals(16, c.patchSize);
        c.validate();
    }

    @Test
    void loadsAYamlFile() throws IOException {
        Path f = yaml("""
                # a small CIFAR run
                model_size: small
                dataset: cifar10
                data_dir: /data/cifar
                num_classes: 10
                img_size: 32
                batch_size: 128
                lr: 5e-4           # YAML 1.2: a number
                min_lr: 1.0e-6
                betas: [0.8, 0.99]
                optimizer: LAMB
                randaugment: rand-m9-mstd0.5-inc1
                layer_scale: 1e-5
                depth: 6
                ema: true
                name: 2024          # a number, taken as text
                seed: 12345678901
                warmup-epochs: 3    # '-' accepted for '_'
                """);
        TrainConfig c = ConfigLoader.load(f);
        assertEquals("flat_small", c.model);
        assertEquals("cifar10", c.dataset);
        assertEquals("/data/cifar", c.dataDir);
        assertEquals(32, c.imgSize);
        assertEquals(128, c.batchSize);
        assertEquals(5e-4, c.lr);
        assertEquals(1e-6, c.minLr);
        assertArrayEquals(new double[] {0.8, 0.99}, c.betas);
        assertEquals("lamb", c.optimizer);
        assertEquals("rand-m9-mstd0.5-inc1", c.randaugment);
        assertEquals(1e-5, c.layerScale);
        assertEquals(6, c.depth);
        assertTrue(c.ema);
        assertEquals("2024", c.name);
        assertEquals(12345678901L, c.seed);
        assertEquals(3, c.warmupEpochs);
        assertEquals(5, c.epochs, "untouched keys keep defaults");
    }

    @Test
    void emptyFileGivesDefaults() throws IOException {
        assertEquals(TrainConfig.defaults().toMap(), ConfigLoader.load(yaml("# nothing\n")).toMap());
    }

    @Test
    void setOverridesWithTypes() {
        TrainConfig c = TrainConfig.defaults();
        c.apply("batch_size=64").apply("lr=3e-4").apply("augment=false").apply("betas=[0.9, 0.95]")
                .apply("data_dir=/tmp/some dir").apply("name=null").apply("seed=7").apply("model_size=tiny")
                .apply(" epochs = 12 ").apply("layer_scale=1e-6").apply("depth=~").apply("dataset=fashion-mnist")
                .apply("warmup_lr=0").apply("randaugment=").apply("name=exp:1");
        assertEquals(64, c.batchSize);
        assertEquals(3e-4, c.lr);
        assertFalse(c.augment);
        assertArrayEquals(new double[] {0.9, 0.95}, c.betas);
        assertEquals("/tmp/some dir", c.dataDir);
        assertEquals(7L, c.seed);
        assertEquals("flat_tiny", c.model);
        assertEquals(12, c.epochs);
        assertEquals(1e-6, c.layerScale);
        assertNull(c.depth);
        assertEquals("fashion-mnist", c.dataset);
        assertEquals(0.0, c.warmupLr);
        assertNull(c.randaugment);
        assertEquals("exp:1", c.name, "text that reads as a YAML mapping is taken literally");

        TrainConfig fromLoader = ConfigLoader.load(null, List.of("epochs=2", "optimizer=sgd", "nesterov=true"));
        assertEquals(2, fromLoader.epochs);
        assertEquals("sgd", fromLoader.optimizer);
        assertTrue(fromLoader.nesterov);
    }

    @Test
    void setOverridesTheFile() throws IOException {
        TrainConfig c = ConfigLoader.load(yaml("lr: 0.1\nepochs: 3\n"), List.of("lr=0.01"));
        assertEquals(0.01, c.lr);
        assertEquals(3, c.epochs);
    }

    @Test
    void unknownKeySuggestsTheNearestOne() throws IOException {
        Path f = yaml("epochs: 3\nlrr: 0.1\n");
        String msg = error(() -> ConfigLoader.load(f));
        assertTrue(msg.startsWith("unknown config key 'lrr' in " + f + ", line 2 (did you mean 'lr'? valid keys: model, "
                + "num_classes,"), msg);
        assertTrue(msg.endsWith("pretrained, pretrained_strict, freeze, layer_decay, resume, model_size)"), msg);

        String set = error(() -> TrainConfig.defaults().apply("batchsize=3"));
        assertTrue(set.startsWith("unknown config key 'batchsize' in --set (did you mean 'batch_size'? valid keys: "), set);
        String far = error(() -> TrainConfig.defaults().apply("completely_unrelated=3"));
        assertTrue(far.startsWith("unknown config key 'completely_unrelated' in --set (valid keys: model,"), far);
    }

    @Test
    void badChoice() throws IOException {
        assertEquals("config key 'optimizer': 'adam' is not one of adamw, sgd, lamb",
                error(() -> TrainConfig.defaults().apply("optimizer=adam")));
        assertEquals("config key 'dataset': 'mnist' is not one of synthetic, fake, fashion-mnist, cifar10, cifar100, "
                + "imagefolder", error(() -> TrainConfig.defaults().apply("dataset=mnist")));
        assertEquals("config key 'scheduler': 'linear' is not one of cosine, step, constant",
                error(() -> TrainConfig.defaults().apply("scheduler=linear")));
        assertEquals("config key 'model_size': 'huge' is not one of tiny, small",
                error(() -> TrainConfig.defaults().apply("model_size=huge")));
        assertEquals("config key 'interpolation': 'lanczos' is not one of bilinear, bicubic, nearest",
                error(() -> TrainConfig.defaults().apply("interpolation=lanczos")));
        Path f = yaml("epochs: 3\n\noptimizer: adam\n");
        assertEquals("config key 'optimizer': 'adam' is not one of adamw, sgd, lamb (" + f + ", line 3)",
                error(() -> ConfigLoader.load(f)));
    }

    @Test
    void wrongType() throws IOException {
        assertEquals("config key 'batch_size': expected an integer, got 'abc'",
                error(() -> TrainConfig.defaults().apply("batch_size=abc")));
        assertEquals("config key 'batch_size': expected an integer, got '32.5'",
                error(() -> TrainConfig.defaults().apply("batch_size=32.5")));
        assertEquals("config key 'lr': expected a number, got 'fast'", error(() -> TrainConfig.defaults().apply("lr=fast")));
        assertEquals("config key 'augment': expected true or false, got 'yes'",
                error(() -> TrainConfig.defaults().apply("augment=yes")));
        assertEquals("config key 'epochs': expected an integer, got null", error(() -> TrainConfig.defaults().apply("epochs=")));
        assertEquals("config key 'betas': expected a list of two numbers like [0.9, 0.999], got '[0.9]'",
                error(() -> TrainConfig.defaults().apply("betas=[0.9]")));
        assertEquals("config key 'dataset': expected a string, got '[a, b]'",
                error(() -> TrainConfig.defaults().apply("dataset=[a, b]")));
        Path f = yaml("batch_size:\n  a: 1\n");
        String msg = error(() -> ConfigLoader.load(f));
        assertEquals("config key 'batch_size': expected an integer, got a mapping {a=1} (" + f + ", line 1)", msg);
    }

    @Test
    void rangeChecks() {
        assertEquals("config key 'batch_size': must be >= 1, got '0'", error(() -> TrainConfig.defaults().apply("batch_size=0")));
        assertEquals("config key 'train_split': must be between 0.0 and 1.0 (exclusive), got '1.0'",
                error(() -> TrainConfig.defaults().apply("train_split=1.0")));
        assertEquals("config key 'lr': must be > 0, got '0'", error(() -> TrainConfig.defaults().apply("lr=0")));
        assertEquals("config key 'lr': must be > 0, got '-0.1'", error(() -> TrainConfig.defaults().apply("lr=-0.1")));
        assertEquals("config key 'lr': must be a finite number, got '.nan'".replace("'.nan'", "'NaN'"),
                error(() -> TrainConfig.defaults().apply("lr=.nan")));
        assertEquals("config key 'hflip': must be in [0.0, 1.0], got '1.5'", error(() -> TrainConfig.defaults().apply("hflip=1.5")));
        assertEquals("config key 'betas': each must be in [0, 1), got '[0.9, 1.0]'",
                error(() -> TrainConfig.defaults().apply("betas=[0.9, 1.0]")));
        assertTrue(error(() -> TrainConfig.defaults().apply("randaugment=autoaugment"))
                .startsWith("config key 'randaugment': must look like 'rand-m9-mstd0.5'"));
        assertTrue(error(() -> TrainConfig.defaults().apply("name=a/b")).startsWith("config key 'name': must be a plain"));
        assertEquals("config key 'depth': must be >= 1, got '0'", error(() -> TrainConfig.defaults().apply("depth=0")));
    }

    @Test
    void fineTuningKeys() throws IOException {
        TrainConfig d = TrainConfig.defaults();
        assertNull(d.numClasses, "num_classes unset: taken from the dataset");
        assertTrue(d.pretrainedStrict);
        assertEquals("none", d.freeze);
        assertNull(d.layerDecay);
        assertEquals(50, d.logEvery);
        Path f = yaml("num_classes: null\npretrained_strict: false\nfreeze: Backbone\nlayer_decay: 0.75\nlog_every: 10\n");
        TrainConfig c = ConfigLoader.load(f);
        assertNull(c.numClasses);
        assertFalse(c.pretrainedStrict);
        assertEquals("backbone", c.freeze);
        assertEquals(0.75, c.layerDecay);
        assertEquals(10, c.logEvery);
        assertEquals(1.0, ConfigLoader.load(null, List.of("layer_decay=1")).layerDecay);
        assertEquals(7, ConfigLoader.load(null, List.of("num_classes=7")).numClasses);
        assertEquals("config key 'freeze': 'head' is not one of none, backbone", error(() -> TrainConfig.defaults().apply("freeze=head")));
        assertEquals("config key 'layer_decay': must be in (0.0, 1.0], got '0'", error(() -> TrainConfig.defaults().apply("layer_decay=0")));
        assertEquals("config key 'layer_decay': must be in (0.0, 1.0], got '1.5'", error(() -> TrainConfig.defaults().apply("layer_decay=1.5")));
        assertEquals("config key 'log_every': must be >= 0, got '-1'", error(() -> TrainConfig.defaults().apply("log_every=-1")));
        assertEquals("config key 'num_classes': must be >= 1, got '0'", error(() -> TrainConfig.defaults().apply("num_classes=0")));
        // the unset value round-trips through the written YAML
        Path out = tmp.resolve("ft/config.yaml");
        ConfigLoader.writeYaml(c, out);
        assertTrue(Files.readString(out).contains("\nnum_classes: null\n"));
        assertEquals(c.toMap(), ConfigLoader.load(out).toMap());
    }

    @Test
    void crossKeyValidation() throws IOException {
        assertEquals("config key 'min_lr': 0.01 is larger than lr 0.001",
                error(() -> ConfigLoader.load(null, List.of("min_lr=0.01"))));
        Path f = yaml("lr: 1e-4\nmin_lr: 1e-3\n");
        assertEquals("config key 'min_lr': 0.001 is larger than lr 1.0E-4 (" + f + ", line 2)", error(() -> ConfigLoader.load(f)));
        assertEquals("config key 'data_dir': dataset 'imagefolder' needs a data_dir",
                error(() -> ConfigLoader.load(null, List.of("dataset=imagefolder"))));
        assertEquals("config key 'nesterov': applies to optimizer sgd only, but optimizer is 'adamw'",
                error(() -> ConfigLoader.load(null, List.of("nesterov=true"))));
        assertEquals("config key 'nesterov': Nesterov momentum needs momentum > 0, got momentum 0",
                error(() -> ConfigLoader.load(null, List.of("optimizer=sgd", "nesterov=true", "momentum=0"))));
        assertTrue(error(() -> ConfigLoader.load(null, List.of("model=mambavision_x"))).startsWith("config key 'model': unknown model 'mambavision_x'"));
        Path h = yaml("model: mambavision_mini\nd_state: 8\n");
        assertEquals("config key 'd_state': applies to the flat models (flat_tiny, flat_small) only; 'mambavision_mini' is hierarchical "
                + "and its shape is fixed by the variant (remove d_state or set it to 16) (" + h + ", line 2)", error(() -> ConfigLoader.load(h)));
        // flat-model keys at their defaults are fine for a hierarchical model (a saved config lists every key)
        assertEquals("mambavision_mini", ConfigLoader.load(null, List.of("model=mambavision_mini", "d_state=16", "mamba_ratio=0.5")).model);
        // order of --set doesn't matter: validation runs after all of them
        TrainConfig ok = ConfigLoader.load(null, List.of("lr=1e-6", "min_lr=1e-7"));
        assertEquals(1e-7, ok.minLr);
    }

    @Test
    void yamlSyntaxErrorsNameFileAndLine() throws IOException {
        Path f = yaml("epochs: 3\nlr: 0.1\n  batch_size: 4\n");
        String msg = error(() -> ConfigLoader.load(f));
        assertTrue(msg.startsWith("cannot parse config " + f + ", line "), msg);
        assertTrue(msg.contains("line 3") || msg.contains("line 2"), msg);

        Path g = yaml("epochs: 3\nbetas: [0.9, 0.99\nlr: 1\n");
        String msg2 = error(() -> ConfigLoader.load(g));
        assertTrue(msg2.startsWith("cannot parse config " + g + ", line "), msg2);

        Path d = yaml("lr: 0.1\nepochs: 2\nlr: 0.2\n");
        assertEquals("config key 'lr' appears twice in " + d + " (lines 1 and 3)", error(() -> ConfigLoader.load(d)));

        Path list = yaml("- lr: 0.1\n");
        assertEquals("config " + list + ", line 1: expected 'key: value' lines at the top level, got a sequence",
                error(() -> ConfigLoader.load(list)));

        assertEquals("config file " + tmp.resolve("nope.yaml") + " does not exist",
                error(() -> ConfigLoader.load(tmp.resolve("nope.yaml"))));
        assertEquals("--set expects key=value, got 'lr'", error(() -> TrainConfig.defaults().apply("lr")));
    }

    @Test
    void noArbitraryTypes() throws IOException {
        Path f = yaml("name: !!java.io.File /etc/passwd\n");
        String msg = error(() -> ConfigLoader.load(f));
        assertTrue(msg.contains(f.toString()), msg);
    }

    @Test
    void writeYamlRoundTripsAtomically() throws IOException {
        TrainConfig c = TrainConfig.defaults();
        c.apply("lr=2.5e-4").apply("betas=[0.85, 0.995]").apply("name=run one").apply("layer_scale=1e-5")
                .apply("randaugment=rand-m9-mstd0.5").apply("data_dir=C:\\data: x").apply("eps=1e-10");
        Path out = tmp.resolve("run/config.yaml");
        ConfigLoader.writeYaml(c, out);
        String text = Files.readString(out);
        assertTrue(text.startsWith("# MambaVision training configuration"), text);
        assertTrue(text.contains("betas: [0.85, 0.995]\n"), text);
        assertTrue(text.contains("\nlr: 2.5E-4\n"), text);
        assertEquals(c.toMap(), ConfigLoader.load(out).toMap());
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of("config.yaml"), s.map(p -> p.getFileName().toString()).toList());
        }
        TrainConfig copy = c.copy();
        copy.betas[0] = 0.1;
        assertEquals(0.85, c.betas[0], "copy is deep");
    }
}
