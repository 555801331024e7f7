package org.mambavision.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.mambavision.engine.bench.BenchRow;
import org.mambavision.inference.Predictor;
import org.mambavision.models.ImageNetClasses;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.serving.InferenceServer;
import org.mambavision.serving.Metrics;
import org.mambavision.serving.ServerConfig;

/**
 * {@code bench serve}: the server in this JVM on a loopback port, driven by closed-loop HTTP clients (one request of
 * one image in flight per client, binary tensor data) at each concurrency level; images/s and p50/p99 latency.
 */
final class ServeBenchmarks {
    private ServeBenchmarks() {}

    static void run(String name, int maxBatch, List<Integer> concurrency, int seconds, Consumer<BenchRow> emit) throws Exception {
        if (seconds < 1) throw new UserError("--seconds must be >= 1");
        for (int c : concurrency) if (c < 1) throw new UserError("--concurrency levels must be >= 1, got " + c);
        VisionModel m = ModelRegistry.create(name);
        int s = m.defaultImgSize(), ch = m.inChans();
        Predictor p = new Predictor(m, ImageNetClasses.names());
        ServerConfig config = ServerConfig.defaults().withAddress("127.0.0.1", 0).withBatching(maxBatch, 5, 4096, 1);
        Request body = request(ch, s);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (InferenceServer server = InferenceServer.start(Map.of(m.name(), p), config)) {
            URI uri = URI.create(server.url() + "/v2/models/" + m.name() + "/infer");
            for (int c : concurrency) {
                load(client, uri, body, c, Math.max(3, seconds / 4)); // warm-up: JIT, buffer pools, connections
                Metrics.BatchTotals before = server.metrics().batchTotals(m.name());
                Result r = load(client, uri, body, c, seconds);
                Metrics.BatchTotals after = server.metrics().batchTotals(m.name());
                String shape = m.name() + " c" + c + " " + s + "x" + s;
                emit.accept(new BenchRow("serve_throughput", shape, r.images / r.seconds, "images/s"));
                emit.accept(new BenchRow("serve_p50", shape, r.percentile(0.50), "ms"));
                emit.accept(new BenchRow("serve_p99", shape, r.percentile(0.99), "ms"));
                long images = after.images() - before.images();
                double busy = after.busySeconds() - before.busySeconds();
                emit.accept(new BenchRow("serve_mean_batch", shape, images / (double) Math.max(1, after.batches() - before.batches()), "images/batch"));
                // the model's own speed inside the server's batches, measured over the same seconds as the throughput:
                // on a shared machine this, not a bench model run minutes apart, is what the throughput compares with
                emit.accept(new BenchRow("serve_model_speed", shape, images / Math.max(busy, 1e-9), "images/s"));
                emit.accept(new BenchRow("serve_model_busy", shape, 100 * busy / r.seconds, "%"));
                if (r.errors > 0) emit.accept(new BenchRow("serve_errors", shape, r.errors, "requests"));
            }
        }
    }

    /** An infer request body and the length of its JSON header (the Inference-Header-Content-Length). */
    private record Request(byte[] body, int headerLength) {}

    /** One FP32 image (random values) as an OIP infer request with Triton's binary tensor data. */
    private static Request request(int ch, int s) {
        int n = ch * s * s;
        String header = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1," + ch + "," + s + "," + s + "],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":" + 4 * n + "}}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(json.length + 4 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put(json);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < n; i++) b.putFloat((float) r.nextGaussian());
        return new Request(b.array(), json.length);
    }

    record Result(long images, long errors, double seconds, long[] latenciesNanos) {
        double percentile(double q) {
            if (latenciesNanos.length == 0) return Double.NaN;
            return latenciesNanos[(int) Math.min(latenciesNanos.length - 1, Math.floor(q * latenciesNanos.length))] / 1e6;
        }
    }

    private static Result load(HttpClient client, URI uri, Request body, int clients, int seconds) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong errors = new AtomicLong();
        List<long[]> perClient = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < clients; i++) {
            long[][] mine = {new long[1024]};
            int[] count = {0};
            Thread t = Thread.ofPlatform().name("bench-client-" + i).start(() -> {
                HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                        .header("Inference-Header-Content-Length", Integer.toString(body.headerLength()))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.body())).build();
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<byte[]> r = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() != 200) {
                            errors.incrementAndGet();
                            continue;
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        continue;
                    }
                    if (count[0] == mine[0].length) mine[0] = Arrays.copyOf(mine[0], 2 * count[0]);
                    mine[0][count[0]++] = System.nanoTime() - t0;
                }
                synchronized (perClient) {
                    perClient.add(Arrays.copyOf(mine[0], count[0]));
                }
            });
            threads.add(t);
        }
        for (Thread t : threads) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] all = perClient.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(all.length, errors.get(), elapsed, all);
    }
}
