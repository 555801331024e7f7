package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.track.MetricsLog;

/** The trainer's data-parallel hooks, with the processes as threads of this JVM summing through shared memory. */
class DistributedTrainerTest {
    /** {@code size} ranks that sum their buffers in rank order (the same bits for every rank). */
    static final class ThreadGroup {
        final int size;
        final float[][] slots;
        final CyclicBarrier published, copied;
        float[] sum;

        ThreadGroup(int size) {
            this.size = size;
            this.slots = new float[size][];
            this.published = new CyclicBarrier(size, () -> {
                sum = new float[slots[0].length];
                for (float[] s : slots) for (int i = 0; i < sum.length; i++) sum[i] += s[i];
            });
            this.copied = new CyclicBarrier(size);
        }

        ProcessGroup rank(int r) {
            return new ProcessGroup() {
                @Override
                public int rank() { return r; }

                @Override
                public int size() { return size; }

                @Override
                public void allReduceSum(float[] buffer) throws IOException {
                    try {
                        slots[r] = buffer;
                        published.await(60, TimeUnit.SECONDS);
                        System.arraycopy(sum, 0, buffer, 0, buffer.length);
                        copied.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                        throw new IOException("rank " + r + ": the group broke (" + e + ")", e);
                    }
                }
            };
        }
    }

    static List<Trainer.Result> runGroup(int size, Path runDir, String... sets) throws Exception {
        ThreadGroup g = new ThreadGroup(size);
        ExecutorService pool = Executors.newFixedThreadPool(size);
        try {
            List<Future<Trainer.Result>> futures = new ArrayList<>();
            for (int r = 0; r < size; r++) {
                int rank = r;
                TrainConfig c = TrainerTest.tiny(runDir.getParent(), sets);
                futures.add(pool.submit(() -> new Trainer(c, line -> {}, false).distributed(g.rank(rank), runDir).run()));
            }
            List<Trainer.Result> results = new ArrayList<>();
            for (Future<Trainer.Result> f : futures) results.add(f.get(300, TimeUnit.SECONDS));
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    static final String[] RUN = {"batch_size=32", "dataset_size=128", "epochs=2", "visualize=false", "tensorboard=false"};

    static double maxWeightDifference(Path a, Path b) throws IOException {
        Map<String, Tensor> wa = TrainCheckpoint.read(a.resolve(RunTracker.LAST)).model(), wb = TrainCheckpoint.read(b.resolve(RunTracker.LAST)).model();
        assertEquals(wa.keySet(), wb.keySet());
        double worst = 0;
        for (String k : wa.keySet()) {
            float[] x = wa.get(k).data, y = wb.get(k).data;
            for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst;
    }

    @Test
    void twoProcessesAtHalfTheBatchTrainAsOneProcessAtTheWholeBatch(@TempDir Path dir) throws Exception {
        Trainer.Result one = new Trainer(TrainerTest.tiny(dir.resolve("one"), RUN), line -> {}, false).run();
        Path shared = dir.resolve("two").resolve("run");
        List<Trainer.Result> two = runGroup(2, shared, RUN);
        // the replicas stayed identical: rank 1 evaluated the same weights as rank 0
        assertEquals(two.get(0).finalValLoss(), two.get(1).finalValLoss(), 0.0);
        assertEquals(shared, two.get(0).runDir());
        List<Map<String, Object>> a = MetricsLog.read(one.runDir()), b = MetricsLog.read(shared);
        assertEquals(2, b.size(), "rank 0 alone writes the metrics: " + b);
        for (int e = 0; e < 2; e++) {
            for (String k : List.of(MetricsLog.TRAIN_LOSS, MetricsLog.VAL_LOSS, MetricsLog.TRAIN_TOP1, MetricsLog.VAL_TOP1)) {
                double x = ((Number) a.get(e).get(k)).doubleValue(), y = ((Number) b.get(e).get(k)).doubleValue();
                assertEquals(x, y, 1e-4 * Math.max(1, Math.abs(x)), k + " of epoch " + (e + 1));
            }
        }
        double same = maxWeightDifference(one.runDir(), shared);
        assertTrue(same < 1e-4, "weights differ by " + same);
        // the comparison can fail: a run at batch 16 (twice the steps) ends elsewhere
        Trainer.Result half = new Trainer(TrainerTest.tiny(dir.resolve("half"), "batch_size=16", "dataset_size=128", "epochs=2",
                "visualize=false", "tensorboard=false"), line -> {}, false).run();
        assertTrue(maxWeightDifference(one.runDir(), half.runDir()) > 100 * Math.max(same, 1e-6));
    }

    @Test
    void aBatchNormModelTrainsWithPerProcessStatisticsAndRankZerosRunningStatistics(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("bn").resolve("run");
        List<Trainer.Result> r = runGroup(2, run, "model=mambavision_mini", "depth=null", "patch_size=16", "img_size=32", "batch_size=8",
                "dataset_size=40", "epochs=2", "visualize=false", "tensorboard=false");
        assertEquals(2, r.get(0).epochsDone());
        assertEquals(r.get(0).finalValLoss(), r.get(1).finalValLoss(), 0.0);
        assertTrue(Double.isFinite(r.get(0).finalValLoss()));
        Map<String, Tensor> saved = TrainCheckpoint.read(run.resolve(RunTracker.LAST)).model();
        assertTrue(saved.keySet().stream().anyMatch(k -> k.endsWith("running_mean")), "a model with BatchNorm: " + saved.keySet());
        assertEquals(2, MetricsLog.read(run).size());
    }

    @Test
    void aProcessThatStartsFromAnotherCheckpointIsRefused(@TempDir Path dir) throws Exception {
        ThreadGroup g = new ThreadGroup(2);
        Path run = dir.resolve("run");
        // rank 0 finds a checkpoint (of a finished one-epoch run), rank 1 a directory without one
        Trainer.Result first = new Trainer(TrainerTest.tiny(dir, "epochs=1", "batch_size=32", "visualize=false", "tensorboard=false"),
                line -> {}, false).run();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Trainer.Result> r0 = pool.submit(() -> new Trainer(TrainerTest.tiny(dir, "epochs=2", "batch_size=32"), l -> {}, false)
                    .distributed(g.rank(0), first.runDir()).run());
            Future<Trainer.Result> r1 = pool.submit(() -> new Trainer(TrainerTest.tiny(dir, "epochs=2", "batch_size=32"), l -> {}, false)
                    .distributed(g.rank(1), run).run());
            for (Future<Trainer.Result> f : List.of(r0, r1)) {
                Exception e = assertThrows(java.util.concurrent.ExecutionException.class, () -> f.get(120, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("same checkpoint"), e.getCause().getMessage());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void evaluationPartsAddUpAndRankZerosBuffersReachEveryone() throws Exception {
        ThreadGroup g = new ThreadGroup(2);
        Evaluator.Result[] parts = {new Evaluator.Result(0.5, 0.75, 1.0, 4, new int[][] {{2, 1}, {0, 1}}),
                new Evaluator.Result(2.0, 0.0, 0.5, 2, new int[][] {{0, 1}, {1, 0}})};
        Tensor[] buffers = {Tensor.of(new float[] {1.5f, -2f}, 2), Tensor.of(new float[] {7f, 8f}, 2)};
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Evaluator.Result>> results = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                int rank = r;
                results.add(pool.submit(() -> {
                    GradientSync sync = new GradientSync(g.rank(rank), List.of());
                    sync.broadcastFromRankZero(List.of(buffers[rank]));
                    return sync.combine(parts[rank]);
                }));
            }
            for (Future<Evaluator.Result> f : results) {
                Evaluator.Result r = f.get(30, TimeUnit.SECONDS);
                assertEquals(6, r.samples());
                assertEquals((0.5 * 4 + 2.0 * 2) / 6, r.loss(), 1e-6);
                assertEquals(3 / 6.0, r.top1(), 1e-12);
                assertEquals(5 / 6.0, r.top5(), 1e-12);
                assertArrayEquals(new int[][] {{2, 2}, {1, 1}}, r.confusion());
            }
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(new float[] {1.5f, -2f}, buffers[1].data, 0f);
        assertArrayEquals(new float[] {1.5f, -2f}, buffers[0].data, 0f);
    }

    @Test
    void aBatchTooSmallForTheGroupIsRefused(@TempDir Path dir) {
        ThreadGroup g = new ThreadGroup(4);
        Trainer t = new Trainer(TrainerTest.tiny(dir, "batch_size=2"), line -> {}, false).distributed(g.rank(0), dir.resolve("run"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::run);
        assertTrue(e.getMessage().contains("batch_size of at least 4"), e.getMessage());
    }
}
