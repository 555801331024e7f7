package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Golden;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;

class ConvertCommandTest {
    @TempDir
    Path dir;

    /** Runs the CLI with stdout captured; returns exit code and stdout + stderr. */
    private static CliErrorsTest.Result run(String... args) {
        ByteArrayOutputStream bout = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(bout, true));
        CliErrorsTest.Result r;
        try {
            r = CliErrorsTest.run(args);
        } finally {
            System.setOut(old);
        }
        return new CliErrorsTest.Result(r.code(), bout + r.err());
    }

    private static float[] logits(VisionModel m, Tensor x) {
        m.train(false);
        try (var ng = Tape.noGrad()) {
            return m.forward(x).data.clone();
        }
    }

    /** A Hugging Face style file of mambavision_mini: every name under "model.", BatchNorm counters as I64. */
    private Path officialStyle(VisionModel m) throws Exception {
        Map<String, Tensor> prefixed = new LinkedHashMap<>();
        Set<String> ints = new LinkedHashSet<>();
        SplittableRandom rng = new SplittableRandom(4);
        m.stateDict().forEach((k, t) -> {
            // BatchNorm statistics away from their 0/1 defaults, so a tensor left out would show in the logits
            if (k.endsWith("running_mean") || k.endsWith("running_var")) for (int i = 0; i < t.numel(); i++) t.data[i] = 0.5f + (float) rng.nextDouble();
            prefixed.put("model." + k, t);
            if (k.endsWith("num_batches_tracked")) ints.add("model." + k);
        });
        Path f = dir.resolve("model.safetensors");
        Safetensors.write(f, prefixed, ints, Map.of("format", "pt"));
        return f;
    }

    @Test
    void convertsAndInfersTheModelWithIdenticalLogits() throws Exception {
        VisionModel src = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(7).withSeed(3));
        Path in = officialStyle(src), out = dir.resolve("out/mini.safetensors");
        Files.createDirectories(out.getParent());
        CliErrorsTest.Result r = run("convert", in.toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("model: mambavision_mini (inferred from the tensor shapes)"), r.err());
        try (Safetensors st = Safetensors.open(out)) {
            Map<String, String> meta = st.metadata();
            assertEquals("mambavision_mini", meta.get("model"));
            assertEquals("7", meta.get("num_classes"));
            assertEquals("64", meta.get("preprocess.size"));
            assertEquals("1.0", meta.get("preprocess.crop_pct"));
            assertEquals("bicubic", meta.get("preprocess.interpolation"));
            assertEquals("0.485,0.456,0.406", meta.get("preprocess.mean"));
            assertEquals("0.229,0.224,0.225", meta.get("preprocess.std"));
            assertEquals("model.safetensors", meta.get("source"));
        }
        VisionModel back = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(7).withSeed(8));
        assertTrue(Weights.load(back, out, true).clean());
        Tensor x = Tensor.randn(new SplittableRandom(1), 1f, 2, 3, 64, 64);
        assertArrayEquals(logits(src, x), logits(back, x), "the converted file gives the same logits, bit for bit");
        try (var s = Files.list(out.getParent())) {
            assertEquals(1, s.count(), "only the output file, no temporary left behind");
        }
        // the converted file names its model and preprocessing: predict needs no --model, and a wrong one is refused
        org.mambavision.inference.Predictor p = org.mambavision.inference.Predictor.load(null, out);
        assertEquals("mambavision_mini", p.model().name());
        assertEquals(7, p.classNames().size());
        assertEquals(org.mambavision.inference.EvalPreprocessing.official(back), p.preprocessing());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> org.mambavision.inference.Predictor.load("mambavision_t", out));
        assertEquals(out + " holds a mambavision_mini model, not mambavision_t", wrong.getMessage());
    }

    @Test
    void shapesThatFitNoModelAskForTheName() throws Exception {
        Path in = dir.resolve("flat.safetensors");
        Weights.save(ModelRegistry.create("flat_tiny", ModelOptions.defaults().withClasses(3)), in, Map.of());
        Path out = dir.resolve("o.safetensors");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("convert", in.toString(), out.toString()), in.toString(), "pass --model");
        assertFalse(Files.exists(out));
        // with the name it converts
        assertEquals(0, run("convert", "--model", "flat_tiny", in.toString(), out.toString()).code());
    }

    @Test
    void officialCheckpointOfAnotherArchitectureNamesTheMismatch() {
        Path g = Golden.dirOrNull();
        Assumptions.assumeTrue(g != null, "no ../shared/golden");
        Path in = g.resolve("mini/checkpoint.pth.tar"), out = dir.resolve("o.safetensors");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("convert", "--model", "mambavision_mini", in.toString(), out.toString()),
                in.toString(), "weights do not match mambavision_mini", "shape mismatch");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("convert", in.toString(), out.toString()), in.toString(), "fit no registered");
        assertFalse(Files.exists(out));
    }
}
