package org.mambavision.spark.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;
import org.mambavision.spark.LocalSpark;
import org.mambavision.training.Trainer;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;

/** Data-parallel training through Spark barrier tasks in local mode (two task slots, retries allowed). */
class SparkTrainingTest {
    static final List<String> METRICS = List.of(MetricsLog.TRAIN_LOSS, MetricsLog.TRAIN_TOP1, MetricsLog.VAL_LOSS, MetricsLog.VAL_TOP1);

    static TrainConfig tiny(Path saveDir, String... sets) {
        List<String> all = new ArrayList<>(List.of("depth=2", "img_size=32", "patch_size=8", "dataset_size=128", "batch_size=32", "epochs=2",
                "num_workers=1", "warmup_epochs=0", "lr=0.002", "visualize=false", "tensorboard=false", "name=t",
                "save_dir=" + saveDir.toString().replace('\\', '/')));
        all.addAll(List.of(sets));
        return ConfigLoader.load(null, all);
    }

    static SparkTraining.Summary spark(TrainConfig cfg, Path runDir, SparkTraining.Fault fault) {
        return SparkTraining.run(LocalSpark.session(), cfg, runDir, new SparkTraining.Options(2, Duration.ofSeconds(60), 0, fault));
    }

    static Map<String, Tensor> weights(Path runDir) throws Exception {
        return TrainCheckpoint.read(runDir.resolve("last.safetensors")).model();
    }

    @Test
    void twoTasksAtBatch16TrainAsOneProcessAtBatch32() throws Exception {
        Path dir = Files.tempDir();
        Trainer.Result one = new Trainer(tiny(dir.resolve("one")), line -> {}, false).run();
        Path run = dir.resolve("two").resolve("run");
        SparkTraining.Summary two = spark(tiny(dir.resolve("two")), run, null);
        assertEquals(0, two.stageAttempt());
        assertEquals(one.finalValLoss(), two.finalValLoss(), 1e-4);
        List<Map<String, Object>> a = MetricsLog.read(one.runDir()), b = MetricsLog.read(run);
        assertEquals(2, b.size());
        for (int e = 0; e < 2; e++) {
            for (String k : METRICS) {
                double x = ((Number) a.get(e).get(k)).doubleValue(), y = ((Number) b.get(e).get(k)).doubleValue();
                assertEquals(x, y, 1e-4 * Math.max(1, Math.abs(x)), k + " of epoch " + (e + 1));
            }
        }
        Map<String, Tensor> wa = weights(one.runDir()), wb = weights(run);
        double worst = 0;
        for (String k : wa.keySet()) {
            float[] x = wa.get(k).data, y = wb.get(k).data;
            for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        assertTrue(worst < 1e-4, "weights differ by up to " + worst);
    }

    @Test
    void aTaskThatDiesMidEpochRestartsTheStageFromTheLastCheckpoint() throws Exception {
        Path dir = Files.tempDir();
        // 3 batches an epoch (102 training images): all-reduce 1 checks the start, 2-4 are epoch 1, 5 its evaluation, 6-8 epoch 2:
        // rank 1 dies at batch 2 of epoch 2
        Path faulty = dir.resolve("faulty");
        SparkTraining.Summary s = spark(tiny(dir, "epochs=3"), faulty, new SparkTraining.Fault(1, 7));
        assertEquals(1, s.stageAttempt(), "the second attempt finished the run");
        assertEquals(3, s.epochsDone());
        // the reference: the same run without a failure (resume is exact, so it computes what the resumed one did)
        Path clean = dir.resolve("clean");
        spark(tiny(dir, "epochs=3"), clean, null);
        List<Map<String, Object>> a = MetricsLog.read(faulty), b = MetricsLog.read(clean);
        assertEquals(3, a.size(), "one row per epoch, none repeated: " + a);
        for (int e = 0; e < 3; e++) {
            for (String k : METRICS) assertEquals(b.get(e).get(k), a.get(e).get(k), k + " of epoch " + (e + 1));
        }
        Map<String, Tensor> wa = weights(faulty), wb = weights(clean);
        for (String k : wa.keySet()) assertArrayEquals(wb.get(k).data, wa.get(k).data, k);
    }

    /** Temporary folders the tests leave to the JVM's temp cleanup (the @TempDir of a Spark test can race executor threads). */
    static final class Files {
        static Path tempDir() throws java.io.IOException {
            Path p = java.nio.file.Files.createTempDirectory("mv-spark-train");
            p.toFile().deleteOnExit();
            return p;
        }
    }
}
