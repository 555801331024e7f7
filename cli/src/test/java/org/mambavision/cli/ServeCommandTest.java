package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.Weights;
import org.mambavision.serving.InferenceServer;
import picocli.CommandLine;

/** {@code serve}: one command serves weights files under their names; bad arguments are one line; SIGTERM stops it. */
class ServeCommandTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern ADDRESS = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+) ");

    /** A random-init mambavision_mini written as a safetensors file with its model name in the metadata, as convert writes. */
    private static Path miniWeights(Path dir, String file) throws Exception {
        Path w = dir.resolve(file);
        Weights.save(ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withSeed(3)), w, Map.of("model", "mambavision_mini"));
        return w;
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTwoModelsUnderTheirNames(@TempDir Path dir) throws Exception {
        Path w = miniWeights(dir, "mini.safetensors");
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--model", "mambavision_mini", "--weights", w.toString(), "--name", "a",
                "--model", "mambavision_mini", "--weights", w.toString(), "--name", "b", "--port", "0", "--max-batch", "4");
        try (InferenceServer s = cmd.start()) {
            assertEquals(List.of("a", "b"), s.modelNames());
            assertEquals(200, get(s.url() + "/v2/models/a/ready").statusCode());
            String meta = get(s.url() + "/v2/models/b").body();
            assertTrue(meta.contains("\"shape\":[-1,3,64,64]"), meta);
            assertTrue(meta.contains("\"shape\":[-1,1000]"), meta);
        }
    }

    @Test
    void servesOurTrainingCheckpointWithoutModel(@TempDir Path dir) throws Exception {
        Path run = TinyRun.train(dir.resolve("runs"));
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--weights", run.resolve("best.safetensors").toString(), "--port", "0");
        try (InferenceServer s = cmd.start()) {
            assertEquals(List.of("flat_tiny"), s.modelNames());
            String meta = get(s.url() + "/v2/models/flat_tiny").body();
            assertTrue(meta.contains("\"shape\":[-1,3,32,32]"), meta); // the run's own image size, from the checkpoint
            java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB);
            java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(img, "png", png);
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(s.url() + "/v2/models/flat_tiny/classify?top=2"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"predictions\""), r.body());
        }
    }

    @Test
    void badArgumentsAreOneLine(@TempDir Path dir) throws Exception {
        Path w = miniWeights(dir, "mini.safetensors");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--model", "mambavision_mini", "--model", "mambavision_t", "--weights", w.toString()),
                "--model given 2 time(s) for 1 --weights");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", w.toString(), "--name", "x", "--name", "y"), "--name given 2 time(s)");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", w.toString(), "--token-file", dir.resolve("none").toString()),
                "--token-file", "no such file");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", w.toString(), "--max-batch", "0"), "--max-batch must be >= 1");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", w.toString(), "--name", "a b"), "--name 'a b'");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", dir.resolve("missing.safetensors").toString()), "missing.safetensors");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliErrorsTest.assertOneLine(CliErrorsTest.run("serve", "--weights", w.toString(), "--port", Integer.toString(taken.getLocalPort())),
                    "cannot listen on 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void sigtermStopsTheServerProcess(@TempDir Path dir) throws Exception {
        Path w = miniWeights(dir, "mini.safetensors");
        Path token = Files.writeString(dir.resolve("token"), "t0ken\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--weights", w.toString(), "--port", "0", "--token-file", token.toString()));
        Path log = dir.resolve("serve.log"); // a file, not a pipe: destroy() closes the pipes of a Process
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String url = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (url == null && p.isAlive() && System.nanoTime() < until) {
                Matcher m = ADDRESS.matcher(Files.readString(log));
                if (m.find()) url = m.group(1);
                else Thread.sleep(50);
            }
            assertNotNull(url, "the server printed its address: " + Files.readString(log));
            assertEquals(200, get(url + "/v2/health/ready").statusCode());
            assertEquals(401, get(url + "/v2/models/mambavision_mini").statusCode());
            HttpResponse<String> ok = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v2/models/mambavision_mini"))
                    .header("Authorization", "Bearer t0ken").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server stopped after SIGTERM");
            String rest = Files.readString(log);
            assertTrue(rest.contains("stopping: finishing requests in flight"), rest);
            String last = url;
            assertThrows(java.io.IOException.class, () -> get(last + "/v2/health/live"));
        } finally {
            p.destroyForcibly();
        }
    }
}
