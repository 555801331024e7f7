package org.mambavision.serving;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

/**
 * Dynamic batching for one model: requests wait in a bounded queue; each of a fixed number of worker threads takes
 * the oldest request, gathers the ones that arrive within {@code maxDelay} up to {@code maxBatch} rows, runs them as
 * one batch and hands every request exactly its own rows. A request is never split: one that would overflow the
 * batch starts the worker's next batch instead.
 */
public final class Batcher implements AutoCloseable {
    /** How long {@link #close} waits for the workers. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    /** Runs a batch (B, C, H, W) and returns outputs whose first dimension is B. */
    @FunctionalInterface
    public interface Runner {
        List<Tensor> run(Tensor batch, boolean withFeatures);
    }

    private record Job(Tensor input, boolean features, long deadlineNanos, CompletableFuture<List<Tensor>> result) {
        int rows() {
            return input.dim(0);
        }
    }

    private final String model;
    private final Runner runner;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final BlockingQueue<Job> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final Metrics metrics;
    private volatile boolean closed;

    public Batcher(String model, Runner runner, int maxBatch, long maxDelayNanos, int maxQueue, int nWorkers, Metrics metrics) {
        this.model = model;
        this.runner = runner;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelayNanos;
        this.queue = new ArrayBlockingQueue<>(maxQueue);
        this.metrics = metrics;
        metrics.queueDepth(model, queue::size);
        for (int i = 0; i < nWorkers; i++) {
            Thread t = Thread.ofPlatform().name("model-" + model + "-" + i).daemon(true).start(this::work);
            workers.add(t);
        }
    }

    /**
     * Queues {@code input} (rows 1..maxBatch) to run before {@code deadlineNanos} (System.nanoTime); the future
     * completes with this request's rows of each output, or with an {@link ApiException} (504 past the deadline,
     * 500 when the model failed). A full queue or a closed batcher answers 503 at once.
     */
    public CompletableFuture<List<Tensor>> submit(Tensor input, boolean features, long deadlineNanos) {
        if (input.dim(0) < 1 || input.dim(0) > maxBatch) {
            throw ApiException.badRequest("batch of " + input.dim(0) + " rows; this server takes 1.." + maxBatch + " (--max-batch)");
        }
        if (closed) throw new ApiException(503, "model " + model + " is shutting down", "5");
        Job job = new Job(input, features, deadlineNanos, new CompletableFuture<>());
        if (!queue.offer(job)) {
            throw ApiException.overloaded("model " + model + ": the queue is full (" + queue.size() + " requests waiting, --max-queue); retry later");
        }
        return job.result();
    }

    /** Images waiting in the queue (an estimate while requests come and go). */
    private int queuedRows() {
        int n = 0;
        for (Job j : queue) n += j.rows();
        return n;
    }

    public int queued() {
        return queue.size();
    }

    /**
     * The worker loop. A batch gathers requests for {@code maxDelay} after its first one, and longer, up to a quarter
     * of the previous batch's run time, while it holds fewer images than were in flight when that batch ended (its
     * own plus those queued): clients answered together come back together, but their requests trickle in over
     * more than a few milliseconds, and a batch started with the first of them would leave the rest waiting a whole
     * batch time (batches would alternate between a few images and the rest). The extension costs at most a quarter
     * of a batch; a lone client never waits longer than {@code maxDelay}. A tenth was too short where the model is
     * fast: 32 closed-loop clients' 600 kB requests took longer than that to come back (MambaVision-T, 2 vCPUs, a
     * batch about 0.75 s), batches of 22-30 images varied in size, and each new size allocated its buffers again (the
     * model ran at 29-32 images/s inside the server against 40-44 in `bench model`); with a quarter: 32.0 per batch,
     * 41 images/s.
     */
    private void work() {
        Job carry = null;
        int inFlight = 1;
        long lastRunNanos = 0;
        while (true) {
            Job first = carry != null ? carry : take();
            carry = null;
            if (first == null) return;
            if (!live(first)) continue;
            List<Job> batch = new ArrayList<>();
            batch.add(first);
            int rows = first.rows();
            long start = System.nanoTime();
            long until = start + maxDelayNanos, extended = start + Math.max(maxDelayNanos, lastRunNanos / 4);
            int expected = Math.min(maxBatch, inFlight);
            while (rows < maxBatch) {
                Job next;
                try {
                    long wait = (rows < expected ? extended : until) - System.nanoTime();
                    next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
                } catch (InterruptedException e) {
                    break;
                }
                if (next == null) break;
                if (!live(next)) continue;
                if (rows + next.rows() > maxBatch) {
                    carry = next;
                    break;
                }
                batch.add(next);
                rows += next.rows();
            }
            long runStart = System.nanoTime();
            run(batch, rows);
            lastRunNanos = System.nanoTime() - runStart;
            inFlight = rows + queuedRows() + (carry != null ? carry.rows() : 0);
        }
    }

    /** The next job; null once the batcher is closed and its queue drained. */
    private Job take() {
        while (true) {
            try {
                Job j = queue.poll(50, TimeUnit.MILLISECONDS);
                if (j != null) return j;
                if (closed) return queue.poll();
            } catch (InterruptedException e) {
                if (closed) return queue.poll();
            }
        }
    }

    /** False for a job whose caller gave up, or whose deadline passed (it is answered 504 here). */
    private static boolean live(Job j) {
        if (j.result().isDone()) return false;
        if (System.nanoTime() - j.deadlineNanos() > 0) {
            j.result().completeExceptionally(new ApiException(504, "the request waited past its deadline in the queue (--timeout-ms)"));
            return false;
        }
        return true;
    }

    private void run(List<Job> batch, int rows) {
        Tensor first = batch.getFirst().input();
        int per = first.numel() / first.dim(0);
        float[] x = new float[rows * per];
        boolean features = false;
        int off = 0;
        for (Job j : batch) {
            System.arraycopy(j.input().data, 0, x, off, j.input().numel());
            off += j.input().numel();
            features |= j.features();
        }
        int[] shape = first.shape();
        shape[0] = rows;
        List<List<Tensor>> answers = new ArrayList<>(batch.size());
        long start = System.nanoTime();
        try (var buffers = BufferPool.open(); var noGrad = Tape.noGrad()) {
            List<Tensor> outs = runner.run(Tensor.of(x, shape), features);
            int row = 0;
            for (Job j : batch) {
                List<Tensor> mine = new ArrayList<>(outs.size());
                for (Tensor o : outs) mine.add(rows(o, row, j.rows()));
                answers.add(mine);
                row += j.rows();
            }
        } catch (Throwable t) { // the model failed (out of memory, a bug): every request of the batch is told, the worker goes on
            ApiException e = new ApiException(500, "model " + model + " failed on a batch of " + rows + ": "
                    + (t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName()));
            for (Job j : batch) j.result().completeExceptionally(e);
            return;
        }
        metrics.batch(model, rows, (System.nanoTime() - start) / 1e9);
        for (int i = 0; i < batch.size(); i++) batch.get(i).result().complete(answers.get(i));
    }

    /** Rows [from, from + n) of a tensor whose first dimension is the batch, copied out of the batch's buffers. */
    private static Tensor rows(Tensor t, int from, int n) {
        int per = t.numel() / t.dim(0);
        int[] shape = t.shape();
        shape[0] = n;
        return Tensor.of(Arrays.copyOfRange(t.data, from * per, (from + n) * per), shape);
    }

    /**
     * Refuses new requests, lets the workers finish what is queued, then stops them. A worker still inside a forward
     * pass after {@link #CLOSE_WAIT} is left to finish on its own (workers are daemon threads), so a stop never hangs.
     */
    @Override
    public void close() {
        closed = true;
        long until = System.nanoTime() + CLOSE_WAIT.toNanos();
        for (Thread t : workers) {
            try {
                t.join(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Job j; (j = queue.poll()) != null; ) j.result().completeExceptionally(new ApiException(503, "model " + model + " is shutting down", "5"));
    }
}
