package org.mambavision.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.mambavision.engine.io.WeightFiles;
import org.mambavision.inference.Predictor;
import org.mambavision.models.ModelRegistry;
import org.mambavision.serving.InferenceServer;
import org.mambavision.serving.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./mambavision serve}: the HTTP inference server (Open Inference Protocol v2, classify, metrics, a web page). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve models over HTTP: the Open Inference Protocol v2 (KServe, Triton clients), image classification, "
                + "Prometheus metrics at /metrics and a page at /. Requests arriving within --max-delay-ms run as one batch.",
                "Stops gracefully on SIGTERM or Ctrl-C: requests in flight finish, new ones are refused."})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model name for the --weights at the same position (repeatable; optional for our training checkpoints).")
    List<String> models = new ArrayList<>();

    @Option(names = "--weights", required = true, description = "Weights to serve (repeatable): official .pth.tar/.safetensors or a training checkpoint.")
    List<Path> weights = new ArrayList<>();

    @Option(names = "--name", description = "Served name for the --weights at the same position (repeatable; default: the model name).")
    List<String> names = new ArrayList<>();

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default ${DEFAULT-VALUE}; 0.0.0.0 for all interfaces).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--max-batch", defaultValue = "32", description = "Most images per batch, and per request (default ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-delay-ms", defaultValue = "5", description = "How long a batch waits for more requests (default ${DEFAULT-VALUE}).")
    long maxDelayMs;

    @Option(names = "--max-queue", defaultValue = "256", description = "Requests waiting per model before 503 (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--workers", defaultValue = "1", description = "Model worker threads per model; each batch is itself multi-threaded (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--timeout-ms", defaultValue = "30000", description = "Request deadline from arrival; 504 past it (default ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(names = "--max-body-mb", defaultValue = "64", description = "Largest request body in MB; 413 above it (default ${DEFAULT-VALUE}).")
    long maxBodyMb;

    @Option(names = "--max-image-pixels", defaultValue = "89478485", description = "Refuse images declaring more pixels (default ${DEFAULT-VALUE}, PIL's limit).")
    long maxImagePixels;

    @Option(names = "--token-file", description = "File holding a bearer token: the model endpoints then need 'Authorization: Bearer TOKEN' "
            + "(health and metrics stay open).")
    Path tokenFile;

    @Override
    public Integer call() throws Exception {
        InferenceServer server = start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("stopping: finishing requests in flight");
            server.stop(Duration.ofSeconds(30));
            stopped.countDown();
        }, "serve-shutdown"));
        stopped.await();
        return 0;
    }

    /** Loads the models and starts the server; prints its address once it listens. */
    InferenceServer start() throws IOException {
        if (!models.isEmpty() && models.size() != weights.size()) {
            throw new UserError("--model given " + models.size() + " time(s) for " + weights.size() + " --weights; give one per --weights, or none "
                    + "(our training checkpoints name their model)");
        }
        if (!names.isEmpty() && names.size() != weights.size()) {
            throw new UserError("--name given " + names.size() + " time(s) for " + weights.size() + " --weights; give one per --weights, or none");
        }
        if (maxBodyMb < 1) throw new UserError("--max-body-mb must be >= 1, got " + maxBodyMb);
        ServerConfig defaults = ServerConfig.defaults();
        ServerConfig config = defaults.withAddress(host, port).withBatching(maxBatch, maxDelayMs, maxQueue, workers)
                .withLimits(timeoutMs, maxBodyMb << 20, Math.max(maxBodyMb << 20, defaults.bodyBudgetBytes())).withToken(token());
        Map<String, Predictor> served = new LinkedHashMap<>();
        for (int i = 0; i < weights.size(); i++) {
            WeightFiles.check(weights.get(i));
            Predictor p = Predictor.load(models.isEmpty() ? null : models.get(i), weights.get(i)).withMaxImagePixels(maxImagePixels);
            String name = names.isEmpty() ? ModelRegistry.canonical(p.model().name()) : names.get(i);
            if (!name.matches("[A-Za-z0-9_.-]{1,64}")) throw new UserError("--name '" + name + "': use 1-64 letters, digits, '_', '.' or '-'");
            if (served.put(name, p) != null) throw new UserError("two models served as '" + name + "'; give each a --name");
        }
        InferenceServer server = InferenceServer.start(served, config);
        System.out.println("serving " + String.join(", ", served.keySet()) + " at " + server.url() + " (page: " + server.url() + "/, metrics: "
                + server.url() + "/metrics)" + (tokenFile != null ? "; model endpoints need the bearer token" : ""));
        System.out.flush();
        return server;
    }

    private String token() throws IOException {
        if (tokenFile == null) return null;
        if (!Files.isRegularFile(tokenFile)) throw new UserError("--token-file " + tokenFile + ": no such file");
        String t = Files.readString(tokenFile, StandardCharsets.UTF_8).trim();
        if (t.isEmpty() || t.contains("\n")) throw new UserError("--token-file " + tokenFile + ": expected one line holding the token");
        return t;
    }
}
