package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mambavision.serving.ServingFixtures.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.Predictor;

/** Triton's binary tensor data extension, image classification (raw and multipart), the page and the metrics. */
class BinaryAndClassifyTest {
    static Predictor predictor;
    static InferenceServer server;
    static String base;

    @BeforeAll
    static void start() {
        predictor = miniPredictor(7);
        server = InferenceServer.start(Map.of("mini", predictor, "tiny-limit", predictor.withMaxImagePixels(1000)), config());
        base = server.url();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void binaryInputAndBinaryOutput() throws Exception {
        float[] x = randomImage(21, 2, 3, 64);
        byte[] json = binaryHeader(2, 4 * x.length, ",\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}},{\"name\":\"pooled\"}]");
        HttpResponse<byte[]> r = post(base + "/v2/models/mini/infer", concat(json, littleEndian(x)),
                "Inference-Header-Content-Length", Integer.toString(json.length), "Content-Type", "application/octet-stream");
        assertEquals(200, r.statusCode(), new String(r.body()));
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode head = JSON.readTree(new String(r.body(), 0, jsonLength, StandardCharsets.UTF_8));
        JsonNode logits = head.get("outputs").get(0);
        assertEquals(80, logits.get("parameters").get("binary_data_size").asInt());
        assertTrue(logits.get("data") == null, "a binary output has no JSON data");
        assertEquals(jsonLength + 80, r.body().length);
        float[] got = fromLittleEndian(r.body(), jsonLength, 20);
        assertTrue(maxRelativeError(got, directLogits(predictor, x, 2)) < 1e-5);
        JsonNode pooled = head.get("outputs").get(1);
        assertTrue(maxRelativeError(floats(pooled.get("data")), directFeatures(predictor, x, 2).pooled().data) < 1e-5);
    }

    @Test
    void binaryDataOutputParameterAndJsonInput() throws Exception {
        float[] x = randomImage(22, 1, 3, 64);
        String body = inferJson(x, 1, 3, 64, null).replaceFirst("^\\{", "{\"parameters\":{\"binary_data_output\":true},");
        HttpResponse<byte[]> r = post(base + "/v2/models/mini/infer", body);
        assertEquals(200, r.statusCode(), new String(r.body()));
        int jsonLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        assertTrue(maxRelativeError(fromLittleEndian(r.body(), jsonLength, 10), directLogits(predictor, x, 1)) < 1e-5);
    }

    @Test
    void badBinaryRequestsAre400() throws Exception {
        float[] x = randomImage(23, 1, 3, 64);
        byte[] json = binaryHeader(1, 4 * x.length, "");
        byte[] body = concat(json, littleEndian(x));
        String url = base + "/v2/models/mini/infer";
        assertError(post(url, java.util.Arrays.copyOf(body, body.length - 4), "Inference-Header-Content-Length", "" + json.length), 400, "short of its binary_data_size");
        assertError(post(url, concat(body, new byte[8]), "Inference-Header-Content-Length", "" + json.length), 400, "8 bytes after the JSON header");
        assertError(post(url, body, "Inference-Header-Content-Length", "abc"), 400, "Inference-Header-Content-Length: not a number");
        assertError(post(url, body, "Inference-Header-Content-Length", "" + (body.length + 1)), 400, "outside the body");
        byte[] wrongSize = binaryHeader(1, 100, "");
        assertError(post(url, concat(wrongSize, littleEndian(x)), "Inference-Header-Content-Length", "" + wrongSize.length), 400,
                "binary_data_size: 100 bytes, but FP32 shape [1, 3, 64, 64] needs 49152");
    }

    @Test
    void classifyRawAndMultipartMatchThePredictor() throws Exception {
        byte[] png = png(80, 60, 5);
        List<Predictor.Prediction> want = predictor.predict(ImageIO.read(new java.io.ByteArrayInputStream(png)), 3);
        HttpResponse<byte[]> raw = post(base + "/v2/models/mini/classify?top=3", png, "Content-Type", "image/png");
        assertEquals(200, raw.statusCode(), new String(raw.body()));
        checkPredictions(json(raw), want);

        String boundary = "----mvboundary";
        ByteArrayOutputStream form = new ByteArrayOutputStream();
        form.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        form.writeBytes(png);
        form.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<byte[]> multipart = post(base + "/v2/models/mini/classify?top=3", form.toByteArray(),
                "Content-Type", "multipart/form-data; boundary=" + boundary);
        assertEquals(200, multipart.statusCode(), new String(multipart.body()));
        checkPredictions(json(multipart), want);
        assertTrue(json(multipart).get("latency_ms").asDouble() > 0);
    }

    private static void checkPredictions(JsonNode body, List<Predictor.Prediction> want) {
        JsonNode rows = body.get("predictions");
        assertEquals(want.size(), rows.size());
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i).index(), rows.get(i).get("index").asInt());
            assertEquals(want.get(i).label(), rows.get(i).get("label").asText());
            assertEquals(want.get(i).probability(), rows.get(i).get("probability").floatValue(), 1e-5);
        }
    }

    @Test
    void badImagesAre400() throws Exception {
        String url = base + "/v2/models/mini/classify";
        assertError(post(url, "not an image at all"), 400, "image: not an image or unsupported format");
        assertError(post(url, new byte[0]), 400, "body: empty");
        byte[] png = png(40, 40, 1);
        assertError(post(url, java.util.Arrays.copyOf(png, 60)), 400, "image: cannot decode image");
        assertError(post(base + "/v2/models/tiny-limit/classify", png), 400, "1,600 pixels, above the limit of 1,000");
        assertError(post(url + "?top=abc", png), 400, "top: expected an integer 1..10, got 'abc'");
        assertError(post(url + "?top=11", png), 400, "top: expected an integer 1..10");
        assertError(post(url, "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntext\r\n--x--\r\n",
                "Content-Type", "multipart/form-data; boundary=x"), 400, "body: the multipart form has no file part");
        // Jetty closes the connection after a malformed form: a client of its own, so the shared one's pool stays clean
        HttpResponse<byte[]> bad = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
                .header("Content-Type", "multipart/form-data; boundary=x").POST(java.net.http.HttpRequest.BodyPublishers.ofString("--x\r\nnot a form"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertError(bad, 400, "body: cannot read the multipart form");
    }

    @Test
    void pageAndMetrics() throws Exception {
        HttpResponse<byte[]> page = get(base + "/");
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertEquals(200, post(base + "/v2/models/mini/classify", png(64, 64, 2)).statusCode());
        assertEquals(400, post(base + "/v2/models/mini/infer", "{").statusCode());
        String m = new String(get(base + "/metrics").body(), StandardCharsets.UTF_8);
        assertTrue(m.contains("mv_requests_total{endpoint=\"classify\",status=\"200\"}"), m);
        assertTrue(m.contains("mv_requests_total{endpoint=\"infer\",status=\"400\"}"), m);
        assertTrue(m.contains("# TYPE mv_request_duration_seconds histogram"), m);
        assertTrue(m.contains("mv_request_duration_seconds_bucket{endpoint=\"classify\",le=\"+Inf\"}"), m);
        assertTrue(m.contains("mv_batch_size_bucket{model=\"mini\",le=\"1\"}"), m);
        assertTrue(m.contains("mv_queue_depth{model=\"mini\"} 0"), m);
        assertTrue(m.matches("(?s).*mv_images_processed_total\\{model=\"mini\"} [1-9].*"), m);
        for (String line : m.split("\n")) {
            assertTrue(line.startsWith("#") || line.matches("[a-z_]+(\\{[^}]*})? -?[0-9.E+-]+"), "not Prometheus text format: " + line);
        }
    }

    /** The JSON header of a binary request: one input of {@code rows} images, {@code bytes} after the header. */
    static byte[] binaryHeader(int rows, int bytes, String rest) {
        return ("{\"inputs\":[{\"name\":\"input\",\"shape\":[" + rows + ",3,64,64],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + bytes + "}}]" + rest + "}").getBytes(StandardCharsets.UTF_8);
    }

    static void assertError(HttpResponse<byte[]> r, int status, String message) throws Exception {
        assertEquals(status, r.statusCode(), new String(r.body()));
        String error = json(r).get("error").asText();
        assertTrue(error.contains(message), "expected '" + message + "' in: " + error);
    }
}
