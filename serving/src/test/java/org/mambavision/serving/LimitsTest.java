package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mambavision.serving.BinaryAndClassifyTest.assertError;
import static org.mambavision.serving.ServingFixtures.*;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.Predictor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;

/** Overload and abuse: 413, 503 with Retry-After, 504, the body budget, bearer auth, and graceful shutdown. */
class LimitsTest {
    /** Every gated model of the running test, opened after it so that a failed assertion cannot leave a worker blocked. */
    private final List<GatedModel> gatedModels = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void openGates() {
        gatedModels.forEach(m -> m.gate.countDown());
    }

    private GatedModel gated() {
        GatedModel m = new GatedModel(ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10).withSeed(9)));
        gatedModels.add(m);
        return m;
    }

    private static Predictor predictorOf(GatedModel m) {
        return new Predictor(m, List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"));
    }

    /** Closes the gate and forgets the start-up probe's pass. */
    private static void close(GatedModel m) {
        m.gate = new CountDownLatch(1);
        m.entered.drainPermits();
    }

    private static CompletableFuture<HttpResponse<byte[]>> postAsync(String url, String body) {
        return CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String one(long seed) {
        return inferJson(randomImage(seed, 1, 3, 64), 1, 3, 64, null);
    }

    @Test
    void bodyAboveTheLimitIs413WithOrWithoutContentLength() throws Exception {
        ServerConfig c = config().withLimits(30_000, 256 << 10, 1 << 20);
        try (InferenceServer s = InferenceServer.start(Map.of("mini", miniPredictor(1)), c)) {
            String url = s.url() + "/v2/models/mini/infer";
            assertError(post(url, new byte[400 << 10]), 413, "409600 bytes is above the limit");
            HttpResponse<byte[]> chunked = CLIENT.send(HttpRequest.newBuilder(URI.create(url))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[400 << 10]))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertError(chunked, 413, "larger than the limit");
            assertEquals(200, post(s.url() + "/v2/models/mini/infer", one(1)).statusCode(), "small requests still work");
        }
    }

    @Test
    void fullQueueIs503WithRetryAfter() throws Exception {
        GatedModel m = gated();
        ServerConfig c = config().withBatching(1, 0, 1, 1);
        try (InferenceServer s = InferenceServer.start(Map.of("g", predictorOf(m)), c)) {
            close(m);
            String url = s.url() + "/v2/models/g/infer";
            var running = postAsync(url, one(1));
            assertTrue(m.entered.tryAcquire(30, TimeUnit.SECONDS), "the worker took the first request");
            var queued = postAsync(url, one(2));
            waitFor(() -> s.metrics().render().contains("mv_queue_depth{model=\"g\"} 1"));
            HttpResponse<byte[]> refused = post(url, one(3));
            assertError(refused, 503, "queue is full");
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            m.gate.countDown();
            assertEquals(200, running.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, queued.get(60, TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void requestPastItsDeadlineIs504AndTheServerGoesOn() throws Exception {
        GatedModel m = gated();
        ServerConfig c = config().withLimits(2000, ServerConfig.DEFAULT_MAX_BODY, 1L << 30);
        try (InferenceServer s = InferenceServer.start(Map.of("g", predictorOf(m)), c)) {
            close(m);
            String url = s.url() + "/v2/models/g/infer";
            assertError(post(url, one(1)), 504, "deadline");
            m.gate.countDown();
            assertEquals(200, post(url, one(2)).statusCode());
        }
    }

    @Test
    void bodiesInFlightAreBoundedByTheBudget() throws Exception {
        GatedModel m = gated();
        String body = one(1); // about 120 kB of JSON
        int size = body.getBytes(StandardCharsets.UTF_8).length;
        ServerConfig c = config().withLimits(60_000, size + 1000, 2L * size + 1000);
        try (InferenceServer s = InferenceServer.start(Map.of("g", predictorOf(m)), c)) {
            close(m);
            String url = s.url() + "/v2/models/g/infer";
            var a = postAsync(url, body);
            assertTrue(m.entered.tryAcquire(30, TimeUnit.SECONDS));
            var b = postAsync(url, body);
            waitFor(() -> s.metrics().render().contains("mv_queue_depth{model=\"g\"} 1"));
            HttpResponse<byte[]> refused = post(url, body);
            assertError(refused, 503, "too many large requests in progress");
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            m.gate.countDown();
            assertEquals(200, a.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, b.get(60, TimeUnit.SECONDS).statusCode());
            assertEquals(200, post(url, body).statusCode(), "the budget is released after each request");
        }
    }

    @Test
    void bearerTokenGuardsModelEndpointsOnly() throws Exception {
        try (InferenceServer s = InferenceServer.start(Map.of("mini", miniPredictor(1)), config().withToken("s3cret"))) {
            String url = s.url() + "/v2/models/mini/infer";
            HttpResponse<byte[]> none = post(url, one(1));
            assertError(none, 401, "Authorization: missing");
            assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(null));
            assertError(post(url, one(1), "Authorization", "Bearer wrong"), 403, "wrong bearer token");
            assertError(get(s.url() + "/v2/models/mini"), 401, "Authorization");
            assertEquals(200, post(url, one(1), "Authorization", "Bearer s3cret").statusCode());
            assertEquals(200, get(s.url() + "/v2/models/mini", "Authorization", "Bearer s3cret").statusCode());
            assertEquals(200, get(s.url() + "/v2/health/live").statusCode());
            assertEquals(200, get(s.url() + "/v2/health/ready").statusCode());
            assertEquals(200, get(s.url() + "/metrics").statusCode());
            assertEquals(200, get(s.url() + "/").statusCode());
        }
    }

    @Test
    void gracefulStopFinishesInFlightAndRefusesNew() throws Exception {
        GatedModel m = gated();
        InferenceServer s = InferenceServer.start(Map.of("g", predictorOf(m)), config());
        close(m);
        String base = s.url(), url = base + "/v2/models/g/infer";
        var inFlight = postAsync(url, one(1));
        assertTrue(m.entered.tryAcquire(30, TimeUnit.SECONDS));
        Thread stopper = Thread.ofPlatform().start(() -> s.stop(Duration.ofSeconds(60)));
        waitFor(() -> {
            try {
                return get(base + "/v2/health/ready").statusCode() == 503;
            } catch (Exception e) {
                return false;
            }
        });
        assertError(post(url, one(2)), 503, "shutting down");
        m.gate.countDown();
        HttpResponse<byte[]> r = inFlight.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), "the request in flight finished");
        stopper.join(60_000);
        assertTrue(!stopper.isAlive(), "stop returned");
        try {
            get(base + "/v2/health/live");
            throw new AssertionError("the listener should be closed");
        } catch (java.io.IOException expected) {
            // connection refused: stopped
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("condition not reached within 30 s");
            Thread.sleep(5);
        }
    }
}
