package org.mambavision.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mambavision.engine.Tensor;

/** An exported model loaded in ONNX Runtime (CPU provider): images in, every output out as tensors. */
final class OrtModel implements AutoCloseable {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    final OrtSession session;

    OrtModel(Path model) throws OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(2);
            session = ENV.createSession(model.toString(), so);
        }
    }

    Map<String, Tensor> run(Tensor images) throws OrtException {
        long[] shape = new long[images.rank()];
        for (int i = 0; i < shape.length; i++) shape[i] = images.dim(i);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (OnnxTensor in = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(images.data), shape);
             OrtSession.Result r = session.run(Map.of("images", in))) {
            for (Map.Entry<String, ai.onnxruntime.OnnxValue> e : r) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                long[] s = t.getInfo().getShape();
                int[] dims = new int[s.length];
                for (int i = 0; i < s.length; i++) dims[i] = (int) s[i];
                FloatBuffer fb = t.getFloatBuffer();
                float[] data = new float[fb.remaining()];
                fb.get(data);
                out.put(e.getKey(), Tensor.of(data, dims));
            }
        }
        return out;
    }

    Map<String, String> metadata() throws OrtException {
        return session.getMetadata().getCustomMetadata();
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
