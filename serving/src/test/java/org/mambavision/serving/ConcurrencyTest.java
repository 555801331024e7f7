package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mambavision.serving.ServingFixtures.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.Predictor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;

/** 64 concurrent clients mixing valid and invalid requests; and a stuck model does not hold up another one. */
class ConcurrencyTest {
    @Test
    void sixtyFourClientsMixingValidAndInvalidRequests() throws Exception {
        Predictor p = miniPredictor(31);
        int variants = 6;
        List<float[]> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < variants; i++) {
            int rows = 1 + i % 3;
            float[] x = randomImage(300 + i, rows, 3, 64);
            inputs.add(x);
            expected.add(directLogits(p, x, rows));
            bodies.add(inferJson(x, rows, 3, 64, null));
        }
        byte[] png = png(50, 70, 3);
        Predictor.Prediction top = p.predict(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png)), 1).getFirst();
        ServerConfig c = config().withBatching(16, 3, 512, 2); // two workers: batches of one model run at once
        try (InferenceServer s = InferenceServer.start(Map.of("mini", p), c)) {
            String infer = s.url() + "/v2/models/mini/infer";
            int clients = 64, perClient = 4;
            CyclicBarrier start = new CyclicBarrier(clients);
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<?>> done = new ArrayList<>();
            for (int client = 0; client < clients; client++) {
                int id = client;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int k = 0; k < perClient; k++) {
                        int kind = (id + k) % 6, v = (id * 7 + k) % variants;
                        String what = "client " + id + " request " + k + " kind " + kind;
                        switch (kind) {
                            case 0, 1 -> {
                                HttpResponse<byte[]> r = post(infer, bodies.get(v));
                                if (r.statusCode() != 200) {
                                    failures.add(what + ": " + r.statusCode() + " " + new String(r.body()));
                                    continue;
                                }
                                float[] got = floats(json(r).get("outputs").get(0).get("data"));
                                double err = maxRelativeError(got, expected.get(v));
                                if (err > 1e-5) failures.add(what + ": wrong logits, relative error " + err);
                            }
                            case 2 -> {
                                HttpResponse<byte[]> r = post(s.url() + "/v2/models/mini/classify?top=1", png);
                                JsonNode best = r.statusCode() == 200 ? json(r).get("predictions").get(0) : null;
                                if (best == null || best.get("index").asInt() != top.index()) failures.add(what + ": " + r.statusCode() + " " + new String(r.body()));
                            }
                            case 3 -> expectStatus(failures, what, post(infer, bodies.get(v).substring(0, 500)), 400);
                            case 4 -> expectStatus(failures, what, post(infer, bodies.get(v).replace("[1,3,64,64]", "[1,3,64,63]")
                                    .replace("[2,3,64,64]", "[2,3,63,64]").replace("[3,3,64,64]", "[3,1,64,64]")), 400);
                            default -> {
                                expectStatus(failures, what, post(s.url() + "/v2/models/other/infer", bodies.get(v)), 404);
                                expectStatus(failures, what, post(s.url() + "/v2/models/mini/classify", "GIF89a garbage"), 400);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(300, TimeUnit.SECONDS);
            pool.shutdown();
            assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + failures.peek());
            String m = s.metrics().render();
            assertTrue(m.contains("mv_requests_total{endpoint=\"infer\",status=\"200\"}"), m);
            assertEquals(200, get(s.url() + "/v2/health/ready").statusCode(), "still healthy");
        }
    }

    private static void expectStatus(ConcurrentLinkedQueue<String> failures, String what, HttpResponse<byte[]> r, int status) throws Exception {
        if (r.statusCode() != status || !json(r).has("error")) failures.add(what + ": expected " + status + ", got " + r.statusCode() + " " + new String(r.body()));
    }

    @Test
    void aStuckModelDoesNotBlockAnother() throws Exception {
        GatedModel stuck = new GatedModel(ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10).withSeed(2)));
        Predictor free = miniPredictor(4);
        try (InferenceServer s = InferenceServer.start(Map.of("stuck", new Predictor(stuck, free.classNames()), "free", free), config())) {
            stuck.gate = new CountDownLatch(1);
            stuck.entered.drainPermits();
            float[] x = randomImage(5, 1, 3, 64);
            var blocked = CLIENT.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.url() + "/v2/models/stuck/infer"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(inferJson(x, 1, 3, 64, null))).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertTrue(stuck.entered.tryAcquire(30, TimeUnit.SECONDS));
            for (int i = 0; i < 5; i++) {
                HttpResponse<byte[]> r = post(s.url() + "/v2/models/free/infer", inferJson(x, 1, 3, 64, null));
                assertEquals(200, r.statusCode());
                assertTrue(maxRelativeError(floats(json(r).get("outputs").get(0).get("data")), directLogits(free, x, 1)) < 1e-5);
            }
            assertTrue(!blocked.isDone(), "the stuck model is still stuck");
            stuck.gate.countDown();
            assertEquals(200, blocked.get(60, TimeUnit.SECONDS).statusCode());
        }
    }
}
