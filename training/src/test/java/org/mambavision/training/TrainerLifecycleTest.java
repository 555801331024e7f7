package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;

/** A run's directory across failure, interruption and resume. */
class TrainerLifecycleTest {
    static final String[] QUIET = {"visualize=false", "tensorboard=false"};

    /** A run stopped after its first step (stop asked for before it starts), so in its first epoch. */
    static Trainer.Result stoppedAtOnce(TrainConfig c, List<String> log) throws Exception {
        Trainer t = new Trainer(c, log::add, false);
        t.requestStop();
        Trainer.Result r = t.run();
        assertInstanceOf(Trainer.StopReason.Interrupted.class, r.stopReason(), String.join("\n", log));
        org.junit.jupiter.api.Assertions.assertTrue(r.stopReason().message().endsWith("Resume with: ./mambavision train --resume " + r.runDir()),
                r.stopReason().message());
        return r;
    }

    static TrainConfig resumeOf(Path run, String... sets) {
        TrainConfig c = ConfigLoader.load(run.resolve("config.yaml"), List.of(sets));
        c.resume = run.toString();
        return c;
    }

    @Test
    void failedRunLeavesNoDirectory(@TempDir Path dir) {
        TrainConfig c = TrainerTest.tiny(dir, "epochs=1");
        // fails after the run directory got its config.yaml and plots, before any checkpoint
        Trainer t = new Trainer(c, line -> {
            if (line.startsWith("model ")) throw new IllegalStateException("failure in the run");
        }, false);
        assertThrows(IllegalStateException.class, t::run);
        assertFalse(Files.exists(t.runDir()), "the failed run left " + t.runDir());
    }

    @Test
    void interruptedSummaryListsOnlyFilesThatExist(@TempDir Path dir) throws Exception {
        List<String> log = new ArrayList<>();
        Trainer.Result r = stoppedAtOnce(TrainerTest.tiny(dir), log);
        int listed = 0;
        for (String key : new String[] {"checkpoints", "plots"}) {
            String line = log.stream().filter(l -> l.startsWith("  " + key + " ")).findFirst().orElseThrow(() -> new AssertionError(key + ": " + log));
            String files = line.substring(("  " + key).length()).strip();
            if (files.equals("none")) continue;
            for (String f : files.split(", ")) {
                assertTrue(Files.isRegularFile(r.runDir().resolve(f)), f + " listed but absent: " + line);
                listed++;
            }
        }
        assertTrue(listed > 0, "last.safetensors at least: " + log);
        assertFalse(Files.exists(r.runDir().resolve(RunTracker.BEST)), "no validation ran, so no best checkpoint");
    }

    @Test
    void resumeFromTheFirstEpochRemovesStrayTemporariesWithoutWarnings(@TempDir Path dir) throws Exception {
        Path run = stoppedAtOnce(TrainerTest.tiny(dir, QUIET), new ArrayList<>()).runDir();
        Path stray = Files.writeString(run.resolve(".last.safetensors.1234abcd.tmp"), "half a checkpoint");
        List<String> log = new ArrayList<>();
        Trainer.Result r = new Trainer(resumeOf(run), log::add, false).run();
        assertNull(r.stopReason(), String.join("\n", log));
        assertFalse(Files.exists(stray), "the kill's temporary file is still there");
        assertTrue(log.stream().anyMatch(l -> l.contains(stray.getFileName().toString())), "its removal is logged: " + log);
        assertTrue(log.stream().noneMatch(l -> l.startsWith("warning")), "no metrics are expected before epoch 1 ends: " + log);
        assertEquals(2, MetricsLog.read(run).size());
    }

    @Test
    void resumeWithAnotherBatchSizeContinuesAfterTheSameImagesOrSaysWhy(@TempDir Path dir) throws Exception {
        Path run = stoppedAtOnce(TrainerTest.tiny(dir, QUIET), new ArrayList<>()).runDir(); // after 1 batch of 16 images
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(resumeOf(run, "batch_size=32"), l -> { }, false).run());
        assertTrue(e.getMessage().contains("after 16 images with batch_size 16") && e.getMessage().contains("batch_size 32 does not divide 16")
                && e.getMessage().contains(run.resolve(RunTracker.LAST).toString()), e.getMessage());

        List<String> log = new ArrayList<>();
        Trainer.Result r = new Trainer(resumeOf(run, "batch_size=8", "epochs=1"), log::add, false).run();
        assertNull(r.stopReason(), String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.contains("continues after its first 16 images")), String.join("\n", log));
        TrainCheckpoint.Position end = TrainCheckpoint.Position.of(TrainCheckpoint.read(run.resolve(RunTracker.LAST)).info(), run);
        assertEquals(1, end.epoch());
        assertEquals(8, end.batchSize());
    }

    @Test
    void bestCheckpointBreaksTopOneTiesByValidationLoss(@TempDir Path dir) throws Exception {
        // a small validation set: epochs often tie in top-1
        Trainer.Result r = TrainerTest.train(TrainerTest.tiny(dir, "epochs=4", QUIET[0], QUIET[1]), new ArrayList<>());
        List<Map<String, Object>> rows = MetricsLog.read(r.runDir());
        Map<String, Object> best = rows.get(0);
        for (Map<String, Object> row : rows) {
            double t = MetricsLog.number(row, "val_top1"), bt = MetricsLog.number(best, "val_top1");
            if (t > bt || t == bt && MetricsLog.number(row, "val_loss") < MetricsLog.number(best, "val_loss")) best = row;
        }
        TrainCheckpoint.Position saved = TrainCheckpoint.Position.of(TrainCheckpoint.read(r.runDir().resolve(RunTracker.BEST)).info(), r.runDir());
        assertEquals(((Number) best.get("epoch")).intValue(), saved.epoch(), "best checkpoint's epoch; metrics " + rows);
        assertEquals(MetricsLog.number(best, "val_loss"), saved.bestValLoss(), 1e-6);
    }

    @Test
    void unreadableImagesAreNamedOnceAndCounted(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        for (String cls : new String[] {"a", "b"}) {
            Files.createDirectories(data.resolve(cls));
            for (int i = 0; i < 10; i++) {
                java.awt.image.BufferedImage im = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) im.setRGB(x, y, cls.equals("a") ? x * 15 << 16 : y * 15);
                javax.imageio.ImageIO.write(im, "png", data.resolve(cls).resolve(i + ".png").toFile());
            }
        }
        Path text = Files.writeString(data.resolve("a/notes.png"), "not an image"); // refused when the folder is listed
        byte[] png = Files.readAllBytes(data.resolve("b/0.png"));
        Path truncated = Files.write(data.resolve("b/cut.png"), java.util.Arrays.copyOf(png, 60)); // fails when decoded
        List<String> log = new ArrayList<>();
        TrainerTest.train(TrainerTest.tiny(dir.resolve("runs"), "epochs=1", "dataset=imagefolder", "data_dir=" + data.toString().replace('\\', '/'),
                "img_size=16", "num_classes=2", "batch_size=4", QUIET[0], QUIET[1]), log);
        for (Path bad : new Path[] {text, truncated}) {
            assertEquals(1, log.stream().filter(l -> l.startsWith("skipped unreadable image: " + bad)).count(), bad + " named once: " + String.join("\n", log));
        }
        assertTrue(log.stream().anyMatch(l -> l.matches(" +skipped images +2")), String.join("\n", log));
    }
}
