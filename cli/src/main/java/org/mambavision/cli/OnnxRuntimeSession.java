package org.mambavision.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.mambavision.engine.Tensor;
import org.mambavision.export.OnnxExporter;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.models.VisionModel;

/**
 * A model exported to a temporary ONNX file and loaded in ONNX Runtime's CPU provider with a given number of intra-op
 * threads and all graph optimisations: what {@code bench model --runtime onnxruntime} times beside our engine.
 */
final class OnnxRuntimeSession implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Path dir;
    private final boolean profiling;
    /** The exported model and ONNX Runtime's optimised graph of it, kept while profiling to name the nodes' layers. */
    private final Path model, optimized;

    OnnxRuntimeSession(VisionModel m, int height, int width, int threads) throws IOException {
        this(m, height, width, threads, false);
    }

    /** With {@code profiling}, ONNX Runtime records every node's time (see {@link #layerMillis}), which slows it. */
    OnnxRuntimeSession(VisionModel m, int height, int width, int threads, boolean profiling) throws IOException {
        this.profiling = profiling;
        dir = Files.createTempDirectory("mambavision-ort");
        model = dir.resolve(m.name() + ".onnx");
        optimized = dir.resolve(m.name() + ".optimized.onnx");
        try {
            OnnxExporter.export(m, ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m), OnnxExporter.Options.of(height, width), model);
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                if (profiling) {
                    so.enableProfiling(dir.resolve("profile").toString());
                    so.setOptimizedModelFilePath(optimized.toString());
                    // its warning that a file optimised this far suits this machine only: this one is read here and deleted
                    so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
                }
                session = env.createSession(model.toString(), so);
            }
        } catch (OrtException e) {
            deleteDir();
            throw new IOException("ONNX Runtime could not load the exported " + m.name() + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            deleteDir();
            throw e;
        }
        if (!profiling) deleteDir();
    }

    /**
     * A profiling session's node times over its last {@code passes} runs, in milliseconds per run, added up by model
     * layer (see {@link OrtProfile#layerOfNodes}); nodes of loop bodies are not counted apart (their time is inside
     * their loop node's). Ends profiling.
     */
    Map<String, Double> layerMillis(int passes, Set<String> layers) throws IOException {
        if (!profiling) throw new IllegalStateException("layerMillis: the session was not created with profiling");
        Path profile;
        try {
            profile = Path.of(session.endProfiling());
        } catch (OrtException e) {
            throw new IOException("ONNX Runtime could not end its profile: " + e.getMessage(), e);
        }
        try {
            Map<String, String> layerOf = OrtProfile.layerOfNodes(OnnxGraphNodes.read(model), OnnxGraphNodes.read(optimized), layers);
            Map<String, Double> ms = new LinkedHashMap<>();
            OrtProfile.millisByNode(profile, passes).forEach((node, t) -> {
                String layer = layerOf.get(node);
                if (layer != null) ms.merge(layer, t, Double::sum);
            });
            return ms;
        } finally {
            Files.deleteIfExists(profile);
        }
    }

    /** One forward pass on {@code images}; the logits are discarded. */
    void run(Tensor images) {
        long[] shape = new long[images.rank()];
        for (int i = 0; i < shape.length; i++) shape[i] = images.dim(i);
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(images.data), shape);
             OrtSession.Result r = session.run(Map.of("images", in))) {
            if (r.size() == 0) throw new IllegalStateException("ONNX Runtime returned no output");
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not close its session: " + e.getMessage(), e);
        } finally {
            deleteDir();
        }
    }

    /** Removes the session's temporary folder with whatever ONNX Runtime wrote there (a profile). */
    private void deleteDir() {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // already gone, or left in the temporary folder: nothing the benchmark needs
        }
    }
}
