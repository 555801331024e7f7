package org.mambavision.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    OnnxRuntimeSession(VisionModel m, int height, int width, int threads) throws IOException {
        dir = Files.createTempDirectory("mambavision-ort");
        Path file = dir.resolve(m.name() + ".onnx");
        try {
            OnnxExporter.export(m, ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m), OnnxExporter.Options.of(height, width), file);
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(file.toString(), so);
            }
        } catch (OrtException e) {
            throw new IOException("ONNX Runtime could not load the exported " + m.name() + ": " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
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
    public void close() throws OrtException {
        session.close();
    }
}
