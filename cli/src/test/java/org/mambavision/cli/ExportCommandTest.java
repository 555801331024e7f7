package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.inference.ModelSpec;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.training.checkpoint.TrainCheckpoint;

/** {@code export}: official-style weights and our checkpoints, the files ONNX Runtime loads, and bad requests. */
class ExportCommandTest {
    @TempDir
    Path dir;

    static float[] ort(Path model, Tensor x, Map<String, String> metaOut) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data), new long[] {x.dim(0), x.dim(1), x.dim(2), x.dim(3)});
             OrtSession.Result r = s.run(Map.of("images", in))) {
            metaOut.putAll(s.getMetadata().getCustomMetadata());
            FloatBuffer fb = ((OnnxTensor) r.get("logits").get()).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double d = 0, n = 0;
        for (int i = 0; i < expected.length; i++) {
            d += (actual[i] - expected[i]) * (double) (actual[i] - expected[i]);
            n += expected[i] * (double) expected[i];
        }
        assertTrue(Math.sqrt(d / n) <= 1e-4, "relative error " + Math.sqrt(d / n));
    }

    static float[] engine(VisionModel m, Tensor x) {
        m.train(false);
        try (var g = Tape.noGrad()) {
            return m.forward(x).data;
        }
    }

    @Test
    void officialWeightsNonSquareWithFeatures() throws Exception {
        VisionModel m = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(5).withSeed(2));
        Path w = dir.resolve("mini.safetensors");
        Safetensors.write(w, m.stateDict(), java.util.Set.of(), Map.of("format", "pt", "num_classes", "5"));
        Path out = dir.resolve("mini.onnx");
        var r = PredictCommandTest.run("export", "--model", "mambavision_mini", "--weights", w.toString(), "--output", out.toString(),
                "--img-size", "96x128", "--features");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("outputs logits, stage0, stage1, stage2, stage3, pooled"), r.out());
        Tensor x = Tensor.uniform(new SplittableRandom(1), -1f, 1f, 2, 3, 96, 128);
        Map<String, String> meta = new java.util.HashMap<>();
        assertClose(engine(m, x), ort(out, x, meta));
        assertEquals("mambavision_mini", meta.get("model"));
        assertEquals("96x128", meta.get("input_size"));
    }

    @Test
    void ourCheckpointNeedsNoModelAndCarriesItsClassNames() throws Exception {
        List<String> classes = List.of("cat", "dog", "bird");
        ModelSpec spec = new ModelSpec("flat_tiny", 3, classes.size(), 32, null, null, null, null, null, null);
        VisionModel m = spec.create(7);
        Path ckpt = dir.resolve("best.safetensors");
        TrainCheckpoint.save(ckpt, new TrainCheckpoint.State(spec, m.stateDict(), Map.of(), null, classes, Map.of(), null));
        Path out = dir.resolve("flat.onnx");
        var r = PredictCommandTest.run("export", "--weights", ckpt.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        Tensor x = Tensor.uniform(new SplittableRandom(1), -1f, 1f, 3, 3, 32, 32);
        Map<String, String> meta = new java.util.HashMap<>();
        assertClose(engine(m, x), ort(out, x, meta));
        assertEquals("cat\ndog\nbird", meta.get("class_names"));
        assertEquals("32", meta.get("preprocess.size"));
    }

    @Test
    void badRequestsAreOneLine() throws Exception {
        VisionModel m = ModelRegistry.create("flat_tiny", ModelOptions.defaults().withClasses(3));
        Path w = dir.resolve("flat.safetensors");
        Safetensors.write(w, m.stateDict(), java.util.Set.of(), Map.of("num_classes", "3"));
        String out = dir.resolve("x.onnx").toString();
        String[][] cases = {
            {"unknown model", "--model", "nosuch_model", "--weights", w.toString(), "--output", out},
            {"cannot take 30x30", "--model", "flat_tiny", "--weights", w.toString(), "--output", out, "--img-size", "30"},
            {"does not exist", "--model", "flat_tiny", "--weights", w.toString(), "--output", dir.resolve("no/x.onnx").toString()},
            {"is a directory", "--model", "flat_tiny", "--weights", w.toString(), "--output", dir.toString()},
            {"--opset 9", "--model", "flat_tiny", "--weights", w.toString(), "--output", out, "--opset", "9"},
        };
        for (String[] c : cases) {
            String[] args = new String[c.length];
            args[0] = "export";
            System.arraycopy(c, 1, args, 1, c.length - 1);
            var r = PredictCommandTest.run(args);
            assertEquals(2, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains(c[0]) && r.err().strip().lines().count() == 1, c[0] + ": " + r.err());
        }
        assertFalse(Files.exists(Path.of(out)));
    }
}
