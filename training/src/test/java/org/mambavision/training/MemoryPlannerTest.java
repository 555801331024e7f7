package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.training.track.MetricsLog;

class MemoryPlannerTest {
    /** A heap whose usable part holds the fixed costs, the loader's {@code batch} images and {@code micro} images in a step, plus a little. */
    static long heapFor(MemoryPlanner.Costs c, int batch, int micro) {
        return (long) Math.ceil((c.estimate(batch, micro) + c.bytesPerStepImage() / 2) / MemoryPlanner.USABLE);
    }

    static void assertKeepsTheBatch(MemoryPlanner.Plan p, int batch, long heap) {
        assertEquals(batch, p.batchSize(), "the loader batch, so the effective batch, is the configured one");
        assertTrue(p.microBatch() < batch && p.microBatch() >= 1, p.toString());
        long covered = (long) p.microBatch() * p.microBatches();
        assertTrue(covered >= batch && covered - batch < p.microBatches(), "parts of " + p.microBatch() + " or one less cover " + batch + ": " + p);
        assertTrue(p.estimatedBytes() <= heap * MemoryPlanner.USABLE, p + " over " + heap * MemoryPlanner.USABLE);
    }

    @Test
    void oddBatchIsSplitUnevenly() {
        MemoryPlanner.Costs c = new MemoryPlanner.Costs(1000, 10, 100);
        long heap = heapFor(c, 33, 20);
        MemoryPlanner.Plan p = MemoryPlanner.plan(c, 33, heap, "advice");
        assertKeepsTheBatch(p, 33, heap);
        assertEquals(2, p.microBatches()); // 16 + 17, not 1 x 33 (no divisor of 33 fits but 11, 3, 1)
        assertEquals(17, p.microBatch());
    }

    @Test
    void hugeBatchFitsTheBudget() {
        MemoryPlanner.Costs c = new MemoryPlanner.Costs(1L << 20, 4, 1L << 14);
        long heap = heapFor(c, 100_000, 3000);
        MemoryPlanner.Plan p = MemoryPlanner.plan(c, 100_000, heap, "advice");
        assertKeepsTheBatch(p, 100_000, heap);
        assertEquals(34, p.microBatches());
        assertEquals(2942, p.microBatch());
    }

    @Test
    void batchThatFitsIsKept() {
        MemoryPlanner.Costs c = new MemoryPlanner.Costs(1000, 10, 100);
        MemoryPlanner.Plan p = MemoryPlanner.plan(c, 32, heapFor(c, 32, 32), "advice");
        assertFalse(p.split());
        assertEquals(32, p.microBatch());
    }

    @Test
    void nothingFitsIsOneMessageWithEstimateHeapAndAdvice() {
        MemoryPlanner.Costs c = new MemoryPlanner.Costs(3L << 30, 1L << 20, 1L << 30);
        MemoryPlanner.DoesNotFit e = assertThrows(MemoryPlanner.DoesNotFit.class, () -> MemoryPlanner.plan(c, 64, 4L << 30, "lower batch_size or raise MV_HEAP"));
        assertEquals("memory: a training step on batch_size 64 needs about 4.1 GiB even one image at a time (67.1 GiB at once), "
                + "but the Java heap is 4.0 GiB (80% usable); lower batch_size or raise MV_HEAP", e.getMessage());
    }

    static VisionModel flat() {
        return ModelRegistry.create("flat_tiny", new ModelOptions(3, 10, null, null, 32, 2, null, null, 8, 0));
    }

    @Test
    void modelPlanLogsTheSplitAndBatchNormStatistics() {
        List<String> log = new ArrayList<>();
        VisionModel flat = flat();
        MemoryPlanner.Costs c = MemoryPlanner.costs(flat, 32, 0, 4, 3);
        MemoryPlanner.Plan p = MemoryPlanner.plan(flat, 32, 33, 0, 4, 3, false, heapFor(c, 33, 20), log::add);
        assertEquals(17, p.microBatch());
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains("2 micro-batches of 16-17 images"), log.get(0));

        log.clear();
        VisionModel bn = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10));
        MemoryPlanner.Costs cb = MemoryPlanner.costs(bn, 32, 0, 4, 3);
        MemoryPlanner.plan(bn, 32, 33, 0, 4, 3, false, heapFor(cb, 33, 20), log::add);
        assertTrue(log.stream().anyMatch(l -> l.contains("has BatchNorm") && l.contains("micro-batch of at most 17 images")), log.toString());

        MemoryPlanner.DoesNotFit e = assertThrows(MemoryPlanner.DoesNotFit.class, () -> MemoryPlanner.plan(bn, 32, 33, 0, 4, 3, false, 1 << 20, l -> { }));
        assertTrue(e.getMessage().contains("gradient_checkpointing: true") && e.getMessage().contains("MV_HEAP="), e.getMessage());
    }

    @Test
    void splitRunTrainsAsTheWholeBatchAndRefusalLeavesNoRun(@TempDir Path dir) throws Exception {
        String[] common = {"epochs=1", "optimizer=sgd", "lr=0.05", "drop_path_rate=0.2", "batch_size=16", "visualize=false", "tensorboard=false"};
        TrainerTest.train(TrainerTest.tiny(dir.resolve("whole"), common), new ArrayList<>());
        int replicas = org.mambavision.engine.Parallel.threads() - 1;
        long heap = heapFor(MemoryPlanner.costs(flat(), 32, replicas, 4, 3), 16, 6);
        List<String> log = new ArrayList<>();
        new Trainer(TrainerTest.tiny(dir.resolve("split"), common), log::add, false).heapBytes(heap).run();
        assertTrue(log.stream().anyMatch(l -> l.startsWith("memory: a step on batch_size 16")), String.join("\n", log));
        Map<String, Object> whole = MetricsLog.read(TrainerTest.onlyRun(dir.resolve("whole"))).get(0),
                split = MetricsLog.read(TrainerTest.onlyRun(dir.resolve("split"))).get(0);
        for (String k : new String[] {"train_loss", "val_loss"}) {
            double a = ((Number) whole.get(k)).doubleValue(), b = ((Number) split.get(k)).doubleValue();
            assertEquals(a, b, 1e-4 * Math.abs(a), k + ": whole batches " + whole + " vs micro-batches " + split);
        }

        Trainer refused = new Trainer(TrainerTest.tiny(dir.resolve("refused"), common), l -> { }, false).heapBytes(1 << 20);
        assertThrows(MemoryPlanner.DoesNotFit.class, refused::run);
        try (var runs = Files.list(dir.resolve("refused"))) {
            assertEquals(0, runs.count(), "a run refused before its first step leaves no directory");
        }
    }
}
