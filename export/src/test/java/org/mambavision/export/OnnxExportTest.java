package org.mambavision.export;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.models.Features;
import org.mambavision.models.GoldenCases;
import org.mambavision.models.ImageNetClasses;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.mambavision.MambaVision;

/** Exported models run in ONNX Runtime and reproduce our engine's outputs (and the official golden logits). */
class OnnxExportTest {
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    static double relError(float[] actual, float[] expected) {
        double d = 0, n = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            d += (actual[i] - e) * (actual[i] - e);
            n += e * e;
        }
        return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
    }

    static void assertClose(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double err = relError(actual.data, expected.data);
        assertTrue(err <= TOL, what + ": relative error " + err + " > " + TOL);
    }

    static Tensor images(int batch, int h, int w, long seed) {
        return Tensor.uniform(new SplittableRandom(seed), -2f, 2f, batch, 3, h, w);
    }

    /** Our engine's outputs under the exported names. */
    static Map<String, Tensor> engine(VisionModel m, Tensor x) {
        m.train(false);
        try (var g = Tape.noGrad()) {
            Features f = m.forwardFeatures(x);
            var out = new java.util.LinkedHashMap<String, Tensor>();
            out.put("logits", m.head(f.pooled()));
            for (int i = 0; i < f.stages().size(); i++) out.put("stage" + i, f.stages().get(i));
            out.put("pooled", f.pooled());
            return out;
        }
    }

    /** Exports at h x w (with features), then compares every output at batch 1 and 3. */
    void checkAgainstEngine(VisionModel m, int h, int w) throws Exception {
        Path file = tmp.resolve(m.name() + "_" + h + "x" + w + ".onnx");
        OnnxExporter.Result r = OnnxExporter.export(m, ImageNetClasses.names().subList(0, m.numClasses()),
                EvalPreprocessing.official(m), OnnxExporter.Options.of(h, w).withFeatures(true), file);
        assertNull(r.externalData());
        try (OrtModel ort = new OrtModel(file)) {
            for (int batch : new int[] {1, 3}) {
                Tensor x = images(batch, h, w, 7 + batch);
                Map<String, Tensor> ours = engine(m, x), theirs = ort.run(x);
                assertEquals(ours.keySet(), theirs.keySet(), "outputs");
                for (String k : ours.keySet()) assertClose(m.name() + " " + h + "x" + w + " batch " + batch + " " + k, ours.get(k), theirs.get(k));
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"flat_tiny,224,224", "flat_tiny,160,256", "mambavision_t,224,224", "mambavision_t,200,264"})
    void onnxRuntimeMatchesEngine(String name, int h, int w) throws Exception {
        checkAgainstEngine(ModelRegistry.create(name), h, w);
    }

    @ParameterizedTest
    @CsvSource({"mini", "mini_ls"})
    void officialGoldenLogitsFromOnnxRuntime(String name) throws Exception {
        Path dir = GoldenCases.dirOrNull(name);
        Assumptions.assumeTrue(dir != null, "no ../shared/golden");
        MambaVision m = GoldenCases.load(dir);
        try (Safetensors ref = Safetensors.open(dir.resolve("eval.safetensors"))) {
            Tensor input = ref.tensor("input");
            Path file = tmp.resolve(name + ".onnx");
            OnnxExporter.export(m, org.mambavision.inference.ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m),
                    OnnxExporter.Options.of(input.dim(2), input.dim(3)).withFeatures(true), file);
            try (OrtModel ort = new OrtModel(file)) {
                Map<String, Tensor> out = ort.run(input);
                assertClose(name + " official logits", ref.tensor("logits"), out.get("logits"));
                assertClose(name + " official features", ref.tensor("features"), out.get("pooled"));
            }
            checkAgainstEngine(m, input.dim(2), input.dim(3));
        }
    }

    @Test
    void unrolledScanFormAgrees() throws Exception {
        Path dir = GoldenCases.dirOrNull("mini");
        Assumptions.assumeTrue(dir != null, "no ../shared/golden");
        String key = org.mambavision.engine.SystemProperty.ONNX_SCAN.key;
        System.setProperty(key, "unrolled");
        try {
            checkAgainstEngine(GoldenCases.load(dir), 96, 80);
        } finally {
            System.clearProperty(key);
        }
    }

    @Test
    void externalDataAndMetadata() throws Exception {
        VisionModel m = ModelRegistry.create("flat_tiny");
        Path file = tmp.resolve("ext.onnx");
        List<String> names = ImageNetClasses.names();
        OnnxExporter.Result r = OnnxExporter.export(m, names, EvalPreprocessing.official(m),
                OnnxExporter.Options.of(224, 224).withExternalThreshold(0), file);
        assertEquals(tmp.resolve("ext.onnx.data"), r.externalData());
        assertTrue(Files.size(r.externalData()) > 4L * m.numParams() / 2, "weights in the external file");
        assertTrue(Files.size(file) < 1 << 20, "model file without the weights: " + Files.size(file));
        try (OrtModel ort = new OrtModel(file)) {
            Tensor x = images(2, 224, 224, 3);
            assertClose("external data logits", engine(m, x).get("logits"), ort.run(x).get("logits"));
            Map<String, String> meta = ort.metadata();
            assertEquals("flat_tiny", meta.get("model"));
            assertEquals("224x224", meta.get("input_size"));
            assertEquals(EvalPreprocessing.official(m).toMetadata().get("preprocess.mean"), meta.get("preprocess.mean"));
            assertEquals(EvalPreprocessing.fromMetadata(meta, "ext.onnx"), EvalPreprocessing.official(m));
            assertEquals(names, List.of(meta.get("class_names").split("\n", -1)));
        }
    }

    @Test
    void badRequestsAreOneClearError() {
        VisionModel m = ModelRegistry.create("flat_tiny");
        EvalPreprocessing pre = EvalPreprocessing.official(m);
        List<String> names = ImageNetClasses.names();
        var size = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.export(m, names, pre, OnnxExporter.Options.of(100, 224), tmp.resolve("a.onnx")));
        assertTrue(size.getMessage().contains("flat_tiny cannot take 100x224"), size.getMessage());
        var dir = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.export(m, names, pre, OnnxExporter.Options.of(224, 224), tmp.resolve("missing/a.onnx")));
        assertTrue(dir.getMessage().contains("does not exist"), dir.getMessage());
        var opset = assertThrows(IllegalArgumentException.class, () -> OnnxExporter.Options.of(224, 224).withOpset(11));
        assertTrue(opset.getMessage().contains("--opset 11"), opset.getMessage());
        assertFalse(Files.exists(tmp.resolve("a.onnx")));
    }
}
