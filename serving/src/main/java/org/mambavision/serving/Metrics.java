package org.mambavision.serving;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics, rendered in the text exposition format (version 0.0.4). Label values come from
 * fixed sets (endpoint names, HTTP status codes, served model names), never from request paths, so the number of
 * series stays bounded whatever clients send.
 */
public final class Metrics {
    static final double[] LATENCY_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> latency = new ConcurrentSkipListMap<>();
    private final Map<String, Histogram> batchSize = new ConcurrentSkipListMap<>();
    private final Map<String, LongAdder> images = new ConcurrentSkipListMap<>();
    private final Map<String, DoubleAdder> busySeconds = new ConcurrentSkipListMap<>();
    private final Map<String, IntSupplier> queueDepth = new ConcurrentHashMap<>();
    private final double[] batchBuckets;

    public Metrics(int maxBatch) {
        TreeMap<Double, Boolean> b = new TreeMap<>();
        for (int v = 1; v < maxBatch; v *= 2) b.put((double) v, true);
        b.put((double) maxBatch, true);
        batchBuckets = b.keySet().stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** One answered request: its endpoint (a fixed name), HTTP status and seconds from arrival to answer. */
    public void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(labels("endpoint", endpoint, "status", Integer.toString(status)), k -> new LongAdder()).increment();
        latency.computeIfAbsent(labels("endpoint", endpoint), k -> new Histogram(LATENCY_BUCKETS)).observe(seconds);
    }

    /** One batch run by a model worker, and the seconds its forward pass took. */
    public void batch(String model, int rows, double seconds) {
        String l = labels("model", model);
        batchSize.computeIfAbsent(l, k -> new Histogram(batchBuckets)).observe(rows);
        images.computeIfAbsent(l, k -> new LongAdder()).add(rows);
        busySeconds.computeIfAbsent(l, k -> new DoubleAdder()).add(seconds);
    }

    public void queueDepth(String model, IntSupplier depth) {
        queueDepth.put(labels("model", model), depth);
    }

    /** The number of requests counted for an endpoint and status (for tests and the bench). */
    public long requestCount(String endpoint, int status) {
        LongAdder a = requests.get(labels("endpoint", endpoint, "status", Integer.toString(status)));
        return a == null ? 0 : a.sum();
    }

    /** What a model's workers have done so far. */
    public record BatchTotals(long images, long batches, double busySeconds) {}

    public BatchTotals batchTotals(String model) {
        String l = labels("model", model);
        LongAdder n = images.get(l);
        Histogram h = batchSize.get(l);
        DoubleAdder busy = busySeconds.get(l);
        return new BatchTotals(n == null ? 0 : n.sum(), h == null ? 0 : h.count.sum(), busy == null ? 0 : busy.sum());
    }

    public String render() {
        StringBuilder sb = new StringBuilder(4096);
        header(sb, "mv_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
        requests.forEach((l, v) -> sample(sb, "mv_requests_total", l, v.sum()));
        header(sb, "mv_request_duration_seconds", "histogram", "Seconds from a request's arrival to its answer, by endpoint.");
        latency.forEach((l, h) -> h.render(sb, "mv_request_duration_seconds", l));
        header(sb, "mv_batch_size", "histogram", "Images per batch run by a model worker.");
        batchSize.forEach((l, h) -> h.render(sb, "mv_batch_size", l));
        header(sb, "mv_queue_depth", "gauge", "Requests waiting for a model worker.");
        new TreeMap<>(queueDepth).forEach((l, d) -> sample(sb, "mv_queue_depth", l, d.getAsInt()));
        header(sb, "mv_images_processed_total", "counter", "Images run through a model.");
        images.forEach((l, v) -> sample(sb, "mv_images_processed_total", l, v.sum()));
        header(sb, "mv_model_busy_seconds_total", "counter", "Seconds the model workers spent in forward passes.");
        busySeconds.forEach((l, v) -> sample(sb, "mv_model_busy_seconds_total", l, v.sum()));
        header(sb, "mv_jvm_heap_used_bytes", "gauge", "Java heap in use now (garbage included).");
        sample(sb, "mv_jvm_heap_used_bytes", "", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        header(sb, "mv_jvm_heap_after_gc_bytes", "gauge", "Java heap in use after the last collection of each heap pool: what stays live.");
        sample(sb, "mv_jvm_heap_after_gc_bytes", "", heapAfterGc());
        return sb.toString();
    }

    private static long heapAfterGc() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) sum += pool.getCollectionUsage().getUsed();
        }
        return sum;
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder sb, String name, String labels, double value) {
        sb.append(name).append(labels).append(' ').append(format(value)).append('\n');
    }

    private static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v); // Go's ParseFloat, as Prometheus reads it, takes 1.0E-4 too
    }

    /** {@code {k1="v1",k2="v2"}} with the values escaped as the format requires. */
    static String labels(String... kv) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) sb.append(',');
            sb.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
        }
        return sb.append('}').toString();
    }

    /** Cumulative buckets as Prometheus expects them, plus sum and count. */
    private static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            counts = new LongAdder[bounds.length];
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            sum.add(v);
            count.increment();
        }

        void render(StringBuilder sb, String name, String labels) {
            String inner = labels.substring(1, labels.length() - 1);
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                sample(sb, name + "_bucket", "{" + inner + ",le=\"" + format(bounds[i]) + "\"}", cumulative);
            }
            long n = count.sum();
            sample(sb, name + "_bucket", "{" + inner + ",le=\"+Inf\"}", n);
            sample(sb, name + "_sum", labels, sum.sum());
            sample(sb, name + "_count", labels, n);
        }
    }
}
