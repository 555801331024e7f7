package org.mambavision.spark.ml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkFiles;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.SystemProperty;
import org.mambavision.inference.Predictor;

/**
 * One {@link Predictor} per model and weights file in each executor JVM, shared by all its tasks (a Predictor is
 * thread-safe), so a model is read once per executor rather than once per partition.
 */
public final class PredictorCache {
    private record Key(String model, String weights, long maxPixels) {}

    private static final ConcurrentHashMap<Key, Predictor> CACHE = new ConcurrentHashMap<>();

    private PredictorCache() {}

    /**
     * The predictor for {@code weights} (a path every executor can read, or the name of a file shipped with
     * {@code spark-submit --files}); {@code kernelThreads > 0} sizes the engine's thread pool when this JVM has not
     * started it yet.
     */
    public static Predictor get(String model, String weights, long maxPixels, int kernelThreads) {
        if (kernelThreads > 0) KernelThreads.request(kernelThreads);
        return CACHE.computeIfAbsent(new Key(model, weights, maxPixels), k -> {
            try {
                return Predictor.load(k.model(), resolve(k.weights())).withMaxImagePixels(k.maxPixels());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A local file as given, else a file shipped to the executors with {@code --files}. */
    static Path resolve(String weights) {
        Path p = Path.of(weights);
        if (Files.exists(p)) return p;
        try {
            Path shipped = Path.of(SparkFiles.get(p.getFileName().toString()));
            if (Files.exists(shipped)) return shipped;
        } catch (RuntimeException notInSpark) {
            // no SparkEnv (plain JVM): only the path as given
        }
        return p; // Predictor.load names the missing file
    }

    /** The engine's kernel pool size, fixed when the engine first runs in a JVM. */
    public static final class KernelThreads {
        private static boolean warned;

        private KernelThreads() {}

        public static synchronized void request(int threads) {
            if (System.getProperty(SystemProperty.THREADS.key) == null) System.setProperty(SystemProperty.THREADS.key, Integer.toString(threads));
            if (Parallel.threads() != threads && !warned) {
                warned = true;
                org.slf4j.LoggerFactory.getLogger(PredictorCache.class).warn("kernel threads: {} asked for, but this JVM's engine already runs {} ({}={})",
                        threads, Parallel.threads(), SystemProperty.THREADS.key, System.getProperty(SystemProperty.THREADS.key));
            }
        }
    }
}
