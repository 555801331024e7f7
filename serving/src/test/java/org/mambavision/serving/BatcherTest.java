package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mambavision.serving.ServingFixtures.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.Predictor;

/** Dynamic batching: batched answers equal single ones, requests are never split or mixed, the queue is bounded. */
class BatcherTest {
    private static final long FAR = TimeUnit.SECONDS.toNanos(120);

    @Test
    void batchedEqualsSingleAndEachRequestGetsItsOwnRows() throws Exception {
        Predictor p = miniPredictor(5);
        List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
        Batcher.Runner runner = (x, features) -> {
            batchSizes.add(x.dim(0));
            return List.of(p.model().forward(x));
        };
        int[] rows = {1, 3, 2, 1, 4, 1, 2, 3, 1, 1, 2, 5, 1, 3, 2, 1};
        List<float[]> inputs = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) inputs.add(randomImage(100 + i, rows[i], 3, 64));
        // a long max-delay and a gate: all requests are queued before the first batch forms, so batches are full
        CountDownLatch gate = new CountDownLatch(1);
        Batcher.Runner gated = (x, f) -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return runner.run(x, f);
        };
        List<CompletableFuture<List<Tensor>>> futures = new ArrayList<>();
        try (Batcher b = new Batcher("mini", gated, 8, TimeUnit.MILLISECONDS.toNanos(200), 64, 1, new Metrics(8))) {
            for (int i = 0; i < rows.length; i++) futures.add(b.submit(Tensor.of(inputs.get(i).clone(), rows[i], 3, 64, 64), false, System.nanoTime() + FAR));
            gate.countDown();
            for (int i = 0; i < rows.length; i++) {
                Tensor logits = futures.get(i).get(120, TimeUnit.SECONDS).getFirst();
                assertEquals(rows[i], logits.dim(0), "request " + i + " gets exactly its rows");
                float[] single = directLogits(p, inputs.get(i), rows[i]);
                double err = maxRelativeError(logits.data, single);
                assertTrue(err < 1e-5, "request " + i + ": batched vs single relative error " + err);
            }
        }
        int total = 0;
        for (int r : rows) total += r;
        assertEquals(total, batchSizes.stream().mapToInt(Integer::intValue).sum(), "every row runs exactly once");
        assertTrue(batchSizes.stream().allMatch(s -> s <= 8), "no batch above max-batch: " + batchSizes);
        assertTrue(batchSizes.stream().anyMatch(s -> s > 4), "requests were batched together: " + batchSizes);
    }

    @Test
    void closedLoopClientsComeTogetherInFullBatches() throws Exception {
        // 8 clients, each sending its next request 1-10 ms after its answer (as HTTP clients do, in a spread wider
        // than max-delay): batches must not settle into a few images plus the rest.
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        Batcher.Runner slow = (x, f) -> {
            sizes.add(x.dim(0));
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return List.of(x);
        };
        try (Batcher b = new Batcher("m", slow, 8, TimeUnit.MILLISECONDS.toNanos(1), 64, 1, new Metrics(8))) {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                java.util.SplittableRandom r = new java.util.SplittableRandom(i);
                clients.add(Thread.ofPlatform().start(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            b.submit(Tensor.zeros(1, 1, 1, 1), false, System.nanoTime() + FAR).get(60, TimeUnit.SECONDS);
                            Thread.sleep(1 + r.nextInt(10));
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (Thread t : clients) t.join();
        }
        List<Integer> steady = sizes.subList(3, sizes.size() - 1);
        double mean = steady.stream().mapToInt(Integer::intValue).average().orElse(0);
        assertTrue(mean >= 7, "mean batch " + mean + " of 8 clients: " + sizes);
    }

    @Test
    void fullQueueIs503WithRetryAfterAndDeadlineIs504() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        Batcher.Runner blocked = (x, f) -> {
            running.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return List.of(x);
        };
        try (Batcher b = new Batcher("m", blocked, 1, 0, 2, 1, new Metrics(1))) {
            CompletableFuture<List<Tensor>> first = b.submit(Tensor.zeros(1, 1, 2, 2), false, System.nanoTime() + FAR);
            assertTrue(running.await(30, TimeUnit.SECONDS));
            CompletableFuture<List<Tensor>> late = b.submit(Tensor.zeros(1, 1, 2, 2), false, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1));
            CompletableFuture<List<Tensor>> queued = b.submit(Tensor.full(7f, 1, 1, 2, 2), false, System.nanoTime() + FAR);
            ApiException full = assertThrows(ApiException.class, () -> b.submit(Tensor.zeros(1, 1, 2, 2), false, System.nanoTime() + FAR));
            assertEquals(503, full.status());
            assertEquals("1", full.retryAfterSeconds());
            assertTrue(full.getMessage().contains("queue is full"), full.getMessage());
            Thread.sleep(5);
            gate.countDown();
            assertEquals(1, first.get(30, TimeUnit.SECONDS).getFirst().dim(0));
            ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(30, TimeUnit.SECONDS));
            assertEquals(504, ((ApiException) e.getCause()).status());
            assertEquals(7f, queued.get(30, TimeUnit.SECONDS).getFirst().data[0], "the request behind the expired one still runs");
        }
    }

    @Test
    void aFailingBatchFailsItsRequestsOnlyAndTheWorkerGoesOn() throws Exception {
        Batcher.Runner flaky = (x, f) -> {
            if (x.data[0] < 0) throw new OutOfMemoryError("Java heap space");
            return List.of(x);
        };
        try (Batcher b = new Batcher("m", flaky, 4, 0, 8, 1, new Metrics(4))) {
            CompletableFuture<List<Tensor>> bad = b.submit(Tensor.full(-1f, 1, 1, 2, 2), false, System.nanoTime() + FAR);
            ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
            assertEquals(500, ((ApiException) e.getCause()).status());
            assertTrue(e.getCause().getMessage().contains("Java heap space"));
            assertEquals(2f, b.submit(Tensor.full(2f, 1, 1, 2, 2), false, System.nanoTime() + FAR).get(30, TimeUnit.SECONDS).getFirst().data[0]);
        }
    }

    @Test
    void closeFinishesQueuedWorkThenRefuses() throws Exception {
        Batcher b = new Batcher("m", (x, f) -> List.of(x), 2, TimeUnit.MILLISECONDS.toNanos(50), 8, 1, new Metrics(2));
        List<CompletableFuture<List<Tensor>>> fs = new ArrayList<>();
        for (int i = 0; i < 5; i++) fs.add(b.submit(Tensor.full(i, 1, 1, 1, 1), false, System.nanoTime() + FAR));
        b.close();
        for (int i = 0; i < 5; i++) assertEquals(i, fs.get(i).get(30, TimeUnit.SECONDS).getFirst().data[0]);
        assertEquals(503, assertThrows(ApiException.class, () -> b.submit(Tensor.zeros(1, 1, 1, 1), false, System.nanoTime() + FAR)).status());
    }
}
