package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.image.Transform;

/**
 * Batches of a dataset through a per-sample transform and optional mixup/cutmix, prefetched by a small private
 * pool of worker threads (image decoding and augmentation, not tensor kernels).
 *
 * <p>Output depends only on (seed, epoch): the order is a permutation seeded by (seed, epoch), each sample's
 * transform gets a generator seeded by (seed, epoch, dataset index), and mixup one seeded by (seed, epoch, batch).
 * So 0, 1 or 8 workers give identical batches. With {@code numWorkers == 0} batches are built on the caller's thread.
 */
public final class DataLoader implements AutoCloseable {
    /** One batch: images (B, C, H, W), labels (B), soft targets (B * numClasses) when mixup is on, dataset indices (B). */
    public record Batch(Tensor images, int[] labels, float[] softTargets, int[] indices) {
        public int size() { return labels.length; }
    }

    private final Dataset dataset;
    private final Transform transform;
    private final int batchSize, numWorkers, prefetch, shard, shards;
    private final boolean shuffle, dropLast;
    private final long seed;
    private final MixupCutmix mixup;
    private final ExecutorService pool;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.transform = b.transform;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.dropLast = b.dropLast;
        this.numWorkers = b.numWorkers;
        this.prefetch = Math.max(b.prefetch, b.numWorkers);
        this.seed = b.seed;
        this.mixup = b.mixup;
        this.shard = b.shard;
        this.shards = b.shards;
        if (numWorkers > 0) {
            AtomicInteger count = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(numWorkers, r -> {
                Thread t = new Thread(r, "data-loader-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        } else {
            this.pool = null;
        }
    }

    public static Builder builder(Dataset dataset) { return new Builder(dataset); }

    public static final class Builder {
        private final Dataset dataset;
        private Transform transform = Transform.identity();
        private int batchSize = 32, numWorkers = 0, prefetch = 2, shard = 0, shards = 1;
        private boolean shuffle = true, dropLast = false;
        private long seed = 0;
        private MixupCutmix mixup;

        private Builder(Dataset dataset) { this.dataset = dataset; }

        public Builder transform(Transform t) { this.transform = t; return this; }
        public Builder batchSize(int n) { this.batchSize = n; return this; }
        public Builder shuffle(boolean s) { this.shuffle = s; return this; }
        public Builder dropLast(boolean d) { this.dropLast = d; return this; }
        /** Worker threads; 0 builds batches on the consumer thread. */
        public Builder numWorkers(int n) { this.numWorkers = n; return this; }
        /** Batches built ahead of the consumer (at least numWorkers). */
        public Builder prefetch(int n) { this.prefetch = n; return this; }
        public Builder seed(long s) { this.seed = s; return this; }
        /**
         * Builds only part {@code index} of {@code count} of every batch (images [n * index / count, n * (index + 1) / count)
         * of a batch of n): a data-parallel process's share. Mixup/cutmix then mixes within the part.
         */
        public Builder shard(int index, int count) {
            if (count < 1 || index < 0 || index >= count) throw new IllegalArgumentException("shard " + index + " of " + count);
            this.shard = index;
            this.shards = count;
            return this;
        }
        /** Mixup/cutmix applied per batch; null for none. */
        public Builder mixup(MixupCutmix m) { this.mixup = m; return this; }

        public DataLoader build() {
            if (batchSize < 1 || numWorkers < 0 || prefetch < 1) {
                throw new IllegalArgumentException("DataLoader(" + dataset.name() + "): bad batchSize " + batchSize + ", numWorkers " + numWorkers + " or prefetch " + prefetch);
            }
            if (mixup != null && mixup.numClasses() != dataset.numClasses()) {
                throw new IllegalArgumentException("DataLoader(" + dataset.name() + "): mixup has " + mixup.numClasses() + " classes, dataset " + dataset.numClasses());
            }
            return new DataLoader(this);
        }
    }

    public Dataset dataset() { return dataset; }

    public int batchSize() { return batchSize; }

    /** Number of batches one epoch yields. */
    public int batchesPerEpoch() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The sample order of an epoch (dataset indices). */
    public int[] order(int epoch) {
        if (shuffle) return Rng.permutation(dataset.size(), Rng.of(seed, 0x0DE5, epoch));
        int[] o = new int[dataset.size()];
        for (int i = 0; i < o.length; i++) o[i] = i;
        return o;
    }

    /** Iterates the batches of one epoch; close it (or exhaust it) to release prefetched work. */
    public Epoch epoch(int epoch) { return new Epoch(epoch); }

    /** The number of images of batch {@code b} of an epoch, all shards together. */
    public int globalBatchSize(int b) {
        return Math.min(batchSize, dataset.size() - b * batchSize);
    }

    /** The position of this loader's shard in batch {@code b}: its first image's index in the whole batch. */
    public int shardOffset(int b) {
        return (int) ((long) globalBatchSize(b) * shard / shards);
    }

    /** Builds batch {@code b} of an epoch (this loader's shard of it) on the calling thread. */
    public Batch batch(int epoch, int[] order, int b) {
        int whole = globalBatchSize(b), lo = shardOffset(b), hi = (int) ((long) whole * (shard + 1) / shards);
        int start = b * batchSize + lo, n = hi - lo;
        if (n <= 0) throw new IllegalStateException(dataset.name() + ": batch " + b + " has " + whole + " images, none for shard " + shard + " of " + shards);
        int[] idx = new int[n], labels = new int[n];
        float[] data = null;
        int c = 0, h = 0, w = 0;
        for (int k = 0; k < n; k++) {
            int i = order[start + k];
            idx[k] = i;
            Sample s = dataset.get(i);
            Image img = transform.apply(s.image(), Rng.of(seed, 0x5A3, epoch, i));
            if (data == null) {
                c = img.channels();
                h = img.height();
                w = img.width();
                data = new float[n * c * h * w];
            } else if (img.channels() != c || img.height() != h || img.width() != w) {
                throw new IllegalStateException(dataset.name() + ": sample " + i + " is " + img.shapeString() + " but the batch is " + c + "x" + h + "x" + w
                        + "; add a Resize/CenterCrop to the transform");
            }
            System.arraycopy(img.data(), 0, data, k * c * h * w, c * h * w);
            labels[k] = s.label();
        }
        float[] soft = null;
        if (mixup != null) soft = mixup.apply(data, n, c, h, w, labels, Rng.of(seed, 0x313, epoch, b));
        return new Batch(Tensor.of(data, n, c, h, w), labels, soft, idx);
    }

    /** One epoch's batches in order, built ahead by the workers. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch>, AutoCloseable {
        private final int epoch, total;
        private final int[] order;
        private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
        private int next, submitted;

        private Epoch(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.total = batchesPerEpoch();
        }

        @Override public Iterator<Batch> iterator() { return this; }

        @Override public boolean hasNext() { return next < total; }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException(dataset.name() + ": epoch " + epoch + " has only " + total + " batches");
            int b = next++;
            if (pool == null) return guarded(b, () -> batch(epoch, order, b));
            while (submitted < total && submitted < b + prefetch) {
                int s = submitted++;
                inFlight.add(pool.submit(() -> batch(epoch, order, s)));
            }
            Future<Batch> f = inFlight.poll();
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException(dataset.name() + ": interrupted while waiting for batch " + b, e);
            } catch (ExecutionException e) {
                close();
                throw failure(b, e.getCause());
            }
        }

        private Batch guarded(int b, java.util.function.Supplier<Batch> body) {
            try {
                return body.get();
            } catch (RuntimeException | Error e) {
                throw failure(b, e);
            }
        }

        private RuntimeException failure(int b, Throwable cause) {
            return new IllegalStateException("data loader (" + dataset.name() + "): epoch " + epoch + ", batch " + b + " failed: " + cause, cause);
        }

        /** Cancels batches built ahead; the epoch then ends. */
        @Override
        public void close() {
            for (Future<Batch> f : inFlight) f.cancel(true);
            inFlight.clear();
            next = total;
        }
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }

    /** The random stream a sample's transform sees (for tests and debugging). */
    public SplittableRandom sampleRng(int epoch, int index) { return Rng.of(seed, 0x5A3, epoch, index); }
}
