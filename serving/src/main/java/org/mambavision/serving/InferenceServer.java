package org.mambavision.serving;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.mambavision.inference.Predictor;

/**
 * The HTTP server: the Open Inference Protocol v2 (health, metadata, infer with JSON or binary tensors), image
 * classification, Prometheus metrics and a small web page, on Javalin (Jetty 12, virtual threads).
 *
 * <p>Every request passes one guard that answers errors as JSON, counts the request in the metrics, enforces the
 * bearer token on the model endpoints, reserves the request body against a memory budget, and refuses new work
 * while the server drains for shutdown.
 */
public final class InferenceServer implements AutoCloseable {
    /** The most of a refused request's body read and dropped so that the error response arrives intact. */
    private static final long SWALLOW_BYTES = 4L << 20;

    private static final String SHUTTING_DOWN = "the server is shutting down";

    private final ServerConfig config;
    private final Map<String, ServedModel> models = new LinkedHashMap<>();
    private final Metrics metrics;
    private final ModelEndpoints endpoints;
    private final byte[] page;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong bodyBytesHeld = new AtomicLong();
    private final Javalin app;
    private volatile boolean draining;

    /** Starts serving {@code predictors} by name; returns once the port is bound. */
    public static InferenceServer start(Map<String, Predictor> predictors, ServerConfig config) {
        return new InferenceServer(predictors, config);
    }

    private InferenceServer(Map<String, Predictor> predictors, ServerConfig config) {
        if (predictors.isEmpty()) throw new IllegalArgumentException("no model to serve");
        this.config = config;
        this.metrics = new Metrics(config.maxBatch());
        this.endpoints = new ModelEndpoints(config.maxBodyBytes());
        this.page = resource("index.html");
        predictors.forEach((name, p) -> models.put(name, new ServedModel(name, p, config, metrics)));
        Javalin javalin = Javalin.create(this::configure);
        try {
            javalin.start(config.host(), config.port());
        } catch (RuntimeException e) {
            models.values().forEach(ServedModel::close);
            throw new IllegalArgumentException("cannot listen on " + config.host() + ":" + config.port() + ": " + rootMessage(e), e);
        }
        this.app = javalin;
    }

    private void configure(JavalinConfig c) {
        c.startup.showJavalinBanner = false;
        c.startup.showOldJavalinVersionWarning = false;
        c.concurrency.useVirtualThreads = true;
        c.http.maxRequestSize = config.maxBodyBytes();
        c.jetty.multipartConfig.maxFileSize(config.maxBodyBytes(), SizeUnit.BYTES);
        c.jetty.multipartConfig.maxTotalRequestSize(config.maxBodyBytes(), SizeUnit.BYTES);
        c.jetty.multipartConfig.maxInMemoryFileSize(1 << 20, SizeUnit.BYTES);
        c.routes.get("/", guard("page", false, ctx -> ctx.contentType("text/html; charset=utf-8").result(page)));
        c.routes.get("/metrics", guard("metrics", false, ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render())));
        c.routes.get("/v2", guard("server_metadata", false, ctx -> ModelEndpoints.json(ctx, 200, Map.of(
                "name", "mambavision", "version", "0.1.0", "extensions", List.of("binary_tensor_data")))));
        c.routes.get("/v2/health/live", guard("health", false, ctx -> ctx.status(200)));
        c.routes.get("/v2/health/ready", guard("health", false, ctx -> ctx.status(draining ? 503 : 200)));
        for (String base : List.of("/v2/models/{model}", "/v2/models/{model}/versions/{version}")) {
            c.routes.get(base, guard("model_metadata", true, ctx -> endpoints.metadata(ctx, model(ctx))));
            c.routes.get(base + "/ready", guard("model_ready", true, ctx -> {
                model(ctx);
                ctx.status(draining ? 503 : 200);
            }));
            c.routes.post(base + "/infer", guardBody("infer", (ctx, deadline, start) -> endpoints.infer(ctx, model(ctx), deadline)));
        }
        c.routes.post("/v2/repository/index", guard("repository_index", true, ctx -> ModelEndpoints.json(ctx, 200,
                models.keySet().stream().map(n -> Map.of("name", n, "version", "1", "state", draining ? "UNAVAILABLE" : "READY")).toList())));
        c.routes.post("/v2/models/{model}/classify", guardBody("classify", (ctx, deadline, start) -> endpoints.classify(ctx, model(ctx), deadline, start)));
    }

    @FunctionalInterface
    private interface BodyHandler {
        void handle(Context ctx, long deadlineNanos, long startNanos) throws Exception;
    }

    /** A model endpoint that reads a body: its deadline starts now, and its body is reserved against the budget. */
    private Handler guardBody(String endpoint, BodyHandler h) {
        return guard(endpoint, true, ctx -> {
            long start = System.nanoTime();
            if (draining) throw new ApiException(503, SHUTTING_DOWN, "5");
            long declared = ctx.req().getContentLengthLong();
            if (declared > config.maxBodyBytes()) throw ModelEndpoints.tooLarge(declared);
            long reserve = declared >= 0 ? declared : config.maxBodyBytes();
            if (bodyBytesHeld.addAndGet(reserve) > config.bodyBudgetBytes()) {
                bodyBytesHeld.addAndGet(-reserve);
                throw ApiException.overloaded("too many large requests in progress; retry later");
            }
            try {
                h.handle(ctx, start + config.timeoutMs() * 1_000_000L, start);
            } finally {
                bodyBytesHeld.addAndGet(-reserve);
            }
        });
    }

    private Handler guard(String endpoint, boolean modelEndpoint, Handler h) {
        return ctx -> {
            long start = System.nanoTime();
            inFlight.incrementAndGet();
            try {
                if (modelEndpoint) authorize(ctx);
                h.handle(ctx);
            } catch (ApiException e) {
                if (e.retryAfterSeconds() != null) ctx.header("Retry-After", e.retryAfterSeconds());
                if (e.status() == 401) ctx.header("WWW-Authenticate", "Bearer");
                error(ctx, e.status(), e.getMessage());
            } catch (HttpResponseException e) {
                error(ctx, e.getStatus(), e.getMessage());
            } catch (Throwable t) { // a bug or an out-of-memory must not take the server down: the client is told
                error(ctx, 500, "internal error: " + (t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName()));
            } finally {
                metrics.request(endpoint, ctx.statusCode(), (System.nanoTime() - start) / 1e9);
                inFlight.decrementAndGet();
            }
        };
    }

    private static void error(Context ctx, int status, String message) {
        if (!swallowBody(ctx)) ctx.header("Connection", "close");
        ModelEndpoints.json(ctx, status, Map.of("error", message));
    }

    /**
     * Reads and drops what is left of a refused request's body (401, 413, 503 come before or in the middle of it), up
     * to {@link #SWALLOW_BYTES}, as Tomcat's maxSwallowSize does: closing a socket with unread bytes makes the kernel
     * reset the connection, and the client can lose the error response with it. Returns whether the body was read to
     * its end (else the connection is closed after the response).
     */
    private static boolean swallowBody(Context ctx) {
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] buf = new byte[64 << 10];
            for (long left = SWALLOW_BYTES; left > 0; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) return true;
                left -= n;
            }
            return in.read() < 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void authorize(Context ctx) {
        if (config.token() == null) return;
        String h = ctx.header("Authorization");
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "Authorization: missing; send 'Authorization: Bearer <token>'");
        }
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, config.token().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(403, "Authorization: wrong bearer token");
        }
    }

    private ServedModel model(Context ctx) {
        ServedModel m = models.get(ctx.pathParam("model"));
        if (m == null) {
            throw new ApiException(404, "unknown model '" + ModelEndpoints.clip(ctx.pathParam("model")) + "'; served: " + String.join(", ", models.keySet()));
        }
        String version = ctx.pathParamMap().get("version");
        if (version != null && !version.equals("1")) {
            throw new ApiException(404, "model " + m.name() + " has no version '" + ModelEndpoints.clip(version) + "'; its only version is 1");
        }
        return m;
    }

    public int port() {
        return app.port();
    }

    public String url() {
        String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + h + ":" + port();
    }

    public Metrics metrics() {
        return metrics;
    }

    public List<String> modelNames() {
        return List.copyOf(models.keySet());
    }

    /**
     * Graceful stop: new model requests are refused (503), those in flight get up to {@code grace} to finish,
     * then the listener closes and the model workers stop.
     */
    public void stop(Duration grace) {
        draining = true;
        long until = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < until) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        models.values().forEach(ServedModel::close);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }

    private static byte[] resource(String name) {
        try (InputStream in = InferenceServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
