package org.mambavision.serving;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.awt.image.BufferedImage;
import javax.imageio.ImageIO;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.Predictor;
import org.mambavision.models.Features;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.blocks.StochasticDepth;

/** Small random-init models, an HTTP client and request builders shared by the serving tests. */
final class ServingFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ServingFixtures() {}

    /** mambavision_mini (64 px) with 10 classes and random weights: a real hierarchical model that runs in milliseconds. */
    static Predictor miniPredictor(long seed) {
        VisionModel m = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10).withSeed(seed));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) names.add("class_" + i);
        return new Predictor(m, names);
    }

    static ServerConfig config() {
        return ServerConfig.defaults().withAddress("127.0.0.1", 0).withBatching(8, 2, 64, 1);
    }

    static float[] randomImage(long seed, int n, int c, int s) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * c * s * s];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 4 - 2);
        return x;
    }

    /** The model's logits for {@code x} (N, C, S, S), run directly (no server, no batching). */
    static float[] directLogits(Predictor p, float[] x, int n) {
        int c = p.preprocessing().channels(), s = p.preprocessing().size();
        try (var g = Tape.noGrad()) {
            return p.model().forward(Tensor.of(x.clone(), n, c, s, s)).data;
        }
    }

    static Features directFeatures(Predictor p, float[] x, int n) {
        int c = p.preprocessing().channels(), s = p.preprocessing().size();
        try (var g = Tape.noGrad()) {
            return p.model().forwardFeatures(Tensor.of(x.clone(), n, c, s, s));
        }
    }

    static String inferJson(float[] x, int n, int c, int s, String outputs) {
        StringBuilder sb = new StringBuilder(x.length * 12 + 200);
        sb.append("{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"shape\":[").append(n).append(',').append(c).append(',').append(s).append(',')
                .append(s).append("],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < x.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(Float.toString(x[i]));
        }
        sb.append("]}]");
        if (outputs != null) sb.append(",\"outputs\":").append(outputs);
        return sb.append('}').toString();
    }

    static HttpResponse<byte[]> get(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET();
        if (headers.length > 0) b.headers(headers);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<byte[]> post(String url, byte[] body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) b.headers(headers);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<byte[]> post(String url, String body, String... headers) throws IOException, InterruptedException {
        return post(url, body.getBytes(java.nio.charset.StandardCharsets.UTF_8), headers);
    }

    static JsonNode json(HttpResponse<byte[]> r) throws IOException {
        return JSON.readTree(r.body());
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).floatValue();
        return out;
    }

    static byte[] littleEndian(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(x);
        return b.array();
    }

    static float[] fromLittleEndian(byte[] bytes, int offset, int count) {
        float[] out = new float[count];
        ByteBuffer.wrap(bytes, offset, 4 * count).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    static byte[] png(int w, int h, long seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /**
     * max |a - b| / max |b|: the error relative to the output's scale. (Element-wise relative error is meaningless
     * for logits near zero, where a different summation order alone changes the ratio.)
     */
    static double maxRelativeError(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / Math.max(scale, 1e-30);
    }

    static String fmt(String f, Object... a) {
        return String.format(Locale.ROOT, f, a);
    }

    /**
     * A model that waits at a gate before each forward pass (then runs the real one): tests hold a worker busy
     * to fill the queue, pass a deadline, or shut down with a request in flight, without timing guesses.
     */
    static final class GatedModel implements VisionModel {
        final VisionModel inner;
        volatile CountDownLatch gate = new CountDownLatch(0);
        /** One permit per forward pass that reached the gate. */
        final java.util.concurrent.Semaphore entered = new java.util.concurrent.Semaphore(0);

        GatedModel(VisionModel inner) {
            this.inner = inner;
        }

        private void pass() {
            entered.release();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override public String name() { return inner.name(); }
        @Override public Tensor forward(Tensor images) { pass(); return inner.forward(images); }
        @Override public Features forwardFeatures(Tensor images) { pass(); return inner.forwardFeatures(images); }
        @Override public Tensor head(Tensor pooled) { return inner.head(pooled); }
        @Override public int numClasses() { return inner.numClasses(); }
        @Override public int inChans() { return inner.inChans(); }
        @Override public int defaultImgSize() { return inner.defaultImgSize(); }
        @Override public float cropPct() { return inner.cropPct(); }
        @Override public Map<String, Tensor> stateDict() { return inner.stateDict(); }
        @Override public Map<String, Tensor> namedParameters() { return inner.namedParameters(); }
        @Override public long numParams() { return inner.numParams(); }
        @Override public void train(boolean on) { inner.train(on); }
        @Override public void freezeForInference() { inner.freezeForInference(); }
        @Override public void unfreeze() { inner.unfreeze(); }
        @Override public boolean training() { return inner.training(); }
        @Override public StochasticDepth stochasticDepth() { return inner.stochasticDepth(); }
    }
}
