package org.mambavision.training;

import org.mambavision.inference.Predictor;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;

class TrainerTest {
    /** A run small enough for a unit test: flat hybrid, 2 blocks, 32x32 synthetic images. */
    static TrainConfig tiny(Path dir, String... sets) {
        List<String> all = new ArrayList<>(List.of("depth=2", "img_size=32", "patch_size=8", "dataset_size=96", "batch_size=16",
                "epochs=2", "num_workers=1", "warmup_epochs=0", "lr=0.002", "save_dir=" + dir.toString().replace('\\', '/'), "name=t"));
        all.addAll(List.of(sets));
        return ConfigLoader.load(null, all);
    }

    static Trainer.Result train(TrainConfig c, List<String> lines) throws Exception {
        return new Trainer(c, lines::add, false).run();
    }

    @Test
    void shortRunLearnsAndWritesEverything(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        Trainer.Result r = train(tiny(dir, "epochs=3", "dataset_size=160"), lines);
        Path run = r.runDir();
        for (String f : new String[] {"config.yaml", "metrics.jsonl", "metrics.csv", "last.safetensors", "best.safetensors", "report.html",
                "curves.png", "samples.png", "confusion.png", "architecture.png"}) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f + " missing in " + run + "; log: " + lines);
        }
        try (var s = Files.list(run)) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("events.out.tfevents.")), "no TensorBoard file");
            }
        List<Map<String, Object>> rows = MetricsLog.read(run);
        assertEquals(3, rows.size());
        for (String k : new String[] {"epoch", "train_loss", "val_loss", "val_top1", "val_top5", "lr", "images_per_sec"}) {
            assertTrue(rows.get(0).containsKey(k), k);
        }
        // 10 synthetic classes: chance is 0.1
        assertTrue(r.bestTop1() > 0.3, "best top-1 " + r.bestTop1() + "; log: " + lines);
        // the model part of our checkpoint loads into a fresh model with the official-name loader
        VisionModel m = ModelRegistry.create("flat_tiny", new org.mambavision.models.ModelOptions(3, 10, null, null, 32, 2, null, null, 8, 0));
        Weights.LoadReport rep = Weights.load(m, TrainCheckpoint.read(run.resolve("best.safetensors")).model(), true);
        assertTrue(rep.clean(), rep.describe());
        // and predict-style loading takes model and class names from it
        org.mambavision.inference.ModelCheckpoint.Loaded l = TrainCheckpoint.loadModel(run.resolve("last.safetensors"));
        assertEquals(10, l.classNames().size());
    }

    @Test
    void predictorUsesTheRunsOwnPreprocessing(@TempDir Path dir) throws Exception {
        Trainer.Result r = train(tiny(dir, "epochs=1", "in_chans=1", "visualize=false", "tensorboard=false"), new ArrayList<>());
        Predictor p = Predictor.load(null, r.runDir().resolve("best.safetensors"));
        // an RGB image of another size becomes what the run validated on: 1 channel, 32 x 32, normalised
        java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(48, 40, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) for (int x = 0; x < 48; x++) rgb.setRGB(x, y, (x * 5) << 16 | (y * 6) << 8 | 128);
        Tensor in = p.preprocess(rgb);
        assertArrayEquals(new int[] {1, 1, 32, 32}, in.shape());
        List<Predictor.Prediction> top = p.predict(rgb, 3);
        assertEquals(3, top.size());
        assertTrue(top.get(0).probability() >= top.get(1).probability() && top.get(1).probability() >= top.get(2).probability());
    }

    @Test
    void interruptedAndResumedRunMatchesUninterrupted(@TempDir Path dir) throws Exception {
        TrainConfig straight = tiny(dir.resolve("a"), "ema=true", "ema_decay=0.9", "drop_path_rate=0.2", "visualize=false", "tensorboard=false");
        train(straight, new ArrayList<>());
        List<Map<String, Object>> expected = MetricsLog.read(onlyRun(dir.resolve("a")));

        TrainConfig first = tiny(dir.resolve("b"), "ema=true", "ema_decay=0.9", "drop_path_rate=0.2", "visualize=false", "tensorboard=false");
        AtomicReference<Trainer> ref = new AtomicReference<>();
        Trainer t = new Trainer(first, line -> {
            if (line.startsWith("epoch 1/2 ")) ref.get().requestStop(); // stop one step into epoch 2
        }, false);
        ref.set(t);
        Trainer.Result stopped = t.run();
        assertTrue(stopped.stoppedEarly(), "the run should have stopped");
        Path run = onlyRun(dir.resolve("b"));
        TrainConfig again = ConfigLoader.load(run.resolve("config.yaml"), List.of());
        again.resume = run.toString();
        train(again, new ArrayList<>());
        List<Map<String, Object>> actual = MetricsLog.read(run);
        assertEquals(expected.size(), actual.size(), "rows: " + expected + " vs " + actual);
        for (int i = 0; i < expected.size(); i++) {
            for (String k : new String[] {"train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr", "ema_val_loss", "ema_val_top1"}) {
                assertEquals(expected.get(i).get(k), actual.get(i).get(k), "epoch " + (i + 1) + " " + k + ": " + expected + " vs " + actual);
            }
        }
    }

    @Test
    void dataParallelRunMatchesKernelParallelRun(@TempDir Path dir) throws Exception {
        // accumulation, gradient checkpointing, mixup and drop path all go through the sharded step
        // SGD, not AdamW: AdamW would hide a wrongly scaled gradient
        String[] common = {"epochs=1", "optimizer=sgd", "lr=0.05", "accumulation_steps=2", "gradient_checkpointing=true", "mixup=0.4", "drop_path_rate=0.2",
                "visualize=false", "tensorboard=false"};
        List<String> log = new ArrayList<>();
        train(tiny(dir.resolve("kp"), append(common, "data_parallel=false")), new ArrayList<>());
        train(tiny(dir.resolve("dp"), append(common, "data_parallel=true")), log);
        if (org.mambavision.engine.Parallel.threads() > 1) {
            assertTrue(log.stream().anyMatch(l -> l.contains("data-parallel: " + org.mambavision.engine.Parallel.threads() + " shards")), log.toString());
        }
        Map<String, Object> kp = MetricsLog.read(onlyRun(dir.resolve("kp"))).get(0), dp = MetricsLog.read(onlyRun(dir.resolve("dp"))).get(0);
        for (String k : new String[] {"train_loss", "val_loss"}) {
            double a = ((Number) kp.get(k)).doubleValue(), b = ((Number) dp.get(k)).doubleValue();
            assertEquals(a, b, 1e-4 * Math.abs(a), k + ": kernel-parallel " + kp + " vs data-parallel " + dp);
        }
    }

    static String[] append(String[] a, String s) {
        String[] r = java.util.Arrays.copyOf(a, a.length + 1);
        r[a.length] = s;
        return r;
    }

    @Test
    void nonFiniteLossStopsWithClearMessageAndKeepsLastCheckpoint(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        Trainer.Result r = train(tiny(dir, "epochs=3", "lr=1e30", "min_lr=1e-6", "visualize=false"), lines);
        assertTrue(r.stoppedEarly(), String.join("\n", lines));
        Trainer.StopReason.NonFiniteLoss why = assertInstanceOf(Trainer.StopReason.NonFiniteLoss.class, r.stopReason());
        assertFalse(Float.isFinite(why.loss()));
        assertTrue(why.message().contains("the loss became"), why.message());
        Path last = r.runDir().resolve("last.safetensors");
        if (Files.exists(last)) TrainCheckpoint.read(last); // any checkpoint left behind is a complete, readable file
    }

    /** An image folder of {@code classes} classes, {@code perClass} 40x40 PNGs each, the classes told apart by colour. */
    static Path imageFolder(Path root, int classes, int perClass) throws Exception {
        for (int c = 0; c < classes; c++) {
            Path d = Files.createDirectories(root.resolve("class" + c));
            for (int i = 0; i < perClass; i++) {
                java.awt.image.BufferedImage bi = new java.awt.image.BufferedImage(40, 40, java.awt.image.BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 40; y++) for (int x = 0; x < 40; x++) bi.setRGB(x, y, (c * 100) << 16 | ((x + y + i) * 3 & 0xFF) << 8 | (c * 60));
                javax.imageio.ImageIO.write(bi, "png", d.resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    static long occurrences(byte[] haystack, String needle) {
        String s = new String(haystack, java.nio.charset.StandardCharsets.ISO_8859_1);
        long n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

    @Test
    void fineTunesAFrozenBackboneWithClassesFromTheDataset(@TempDir Path dir) throws Exception {
        Trainer.Result base = train(tiny(dir.resolve("base"), "epochs=1", "visualize=false", "tensorboard=false"), new ArrayList<>());
        Path last = base.runDir().resolve("last.safetensors");
        Path data = imageFolder(dir.resolve("folder"), 3, 10);
        List<String> lines = new ArrayList<>();
        Trainer.Result r = train(tiny(dir.resolve("ft"), "dataset=imagefolder", "data_dir=" + data.toString().replace('\\', '/'),
                "pretrained=" + last.toString().replace('\\', '/'), "freeze=backbone", "layer_decay=0.75", "log_every=1", "visualize=false"), lines);
        String log = String.join("\n", lines);
        assertTrue(log.contains("num_classes: 3 (from dataset 'imagefolder')"), log);
        assertTrue(log.contains("head re-initialised for 3 classes (the file has 10)"), log);
        assertFalse(log.contains("unexpected"), "optimizer and EMA tensors of the checkpoint are not reported: " + log);
        assertTrue(log.contains("freeze: backbone") && log.contains("layer_decay 0.75"), log);
        assertTrue(Files.readString(r.runDir().resolve("config.yaml")).contains("\nnum_classes: 3\n"), "the resolved value is saved");
        // the backbone is the pretrained one, untouched; the head has 3 classes
        Map<String, Tensor> before = TrainCheckpoint.read(last).model(), after = TrainCheckpoint.read(r.runDir().resolve("last.safetensors")).model();
        for (String k : after.keySet()) {
            if (k.startsWith("head.")) assertEquals(3, after.get(k).dim(0), k);
            else assertArrayEquals(before.get(k).data, after.get(k).data, k);
        }
        // per-step TensorBoard scalars: one train loss and one lr per optimizer step (24 training images, batch 16: 1 step an epoch)
        Path events;
        try (var s = Files.list(r.runDir())) {
            events = s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).findFirst().orElseThrow();
        }
        byte[] ev = Files.readAllBytes(events);
        assertEquals(2, occurrences(ev, "train_step/loss"));
        assertEquals(2, occurrences(ev, "train_step/lr"));
    }

    @Test
    void explicitNumClassesContradictingTheDatasetIsAnError(@TempDir Path dir) throws Exception {
        Path data = imageFolder(dir.resolve("folder"), 3, 4);
        TrainConfig c = tiny(dir.resolve("run"), "dataset=imagefolder", "data_dir=" + data.toString().replace('\\', '/'), "num_classes=5",
                "visualize=false", "tensorboard=false");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(c, new ArrayList<>()));
        assertTrue(e.getMessage().contains("num_classes is 5 but dataset 'imagefolder' has 3 classes"), e.getMessage());
    }

    static Path onlyRun(Path saveDir) throws Exception {
        try (var s = Files.list(saveDir)) {
            List<Path> l = s.filter(Files::isDirectory).toList();
            assertEquals(1, l.size(), l.toString());
            return l.get(0);
        }
    }
}
