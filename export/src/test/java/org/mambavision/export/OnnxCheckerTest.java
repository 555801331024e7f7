package org.mambavision.export;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.models.GoldenCases;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;

/**
 * The exported graphs pass ONNX's own checker with shape inference ({@code onnx.checker.check_model(full_check=True)},
 * Debian's python3-onnx). Outside CI the test is skipped where python3-onnx is not installed; on CI (CI=true; .ci/run
 * installs the package) it never is.
 */
class OnnxCheckerTest {
    static String python;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findPython() throws Exception {
        for (String p : List.of("/usr/bin/python3", "python3")) {
            if (run(List.of(p, "-c", "import onnx")).exit == 0) {
                python = p;
                return;
            }
        }
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        assertFalse(ci, "python3-onnx is missing on CI: .ci/run installs it (apt-get install -y python3-onnx)");
        Assumptions.abort("python3 with the onnx package is not installed (Debian: apt-get install python3-onnx)");
    }

    record Outcome(int exit, String output) {}

    static Outcome run(List<String> cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Outcome(-1, e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Outcome(-2, "timed out: " + out);
        }
        return new Outcome(p.exitValue(), out);
    }

    static final String CHECK = String.join("\n",
            "import sys, onnx",
            "m = onnx.load(sys.argv[1])",
            "onnx.checker.check_model(m, full_check=True)",
            "ops = sorted({n.op_type for n in m.graph.node} | {n.op_type for n in m.graph.node for a in n.attribute if a.g for n in a.g.node})",
            "assert all(o.domain in ('', 'ai.onnx') for o in m.opset_import), m.opset_import",
            "print('ok', m.opset_import[0].version, ' '.join(ops))");

    void check(VisionModel m, int h, int w, OnnxExporter.Options options, List<String> expectedOps) throws Exception {
        Path file = tmp.resolve(m.name() + ".onnx");
        OnnxExporter.export(m, ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m), options, file);
        Outcome o = run(List.of(python, "-c", CHECK, file.toString()));
        assertEquals(0, o.exit, "onnx.checker on " + m.name() + ":\n" + o.output);
        assertTrue(o.output.startsWith("ok " + options.opset()), o.output);
        for (String op : expectedOps) assertTrue(o.output.contains(" " + op), op + " in " + o.output);
    }

    @Test
    void hierarchicalWithScanFeaturesAndExternalData() throws Exception {
        Path dir = GoldenCases.dirOrNull("mini");
        VisionModel m = dir != null ? GoldenCases.load(dir) : ModelRegistry.create("mambavision_mini");
        check(m, 96, 80, OnnxExporter.Options.of(96, 80).withFeatures(true).withExternalThreshold(0),
                List.of("Scan", "Erf", "Softmax", "MatMul", "Conv", "LayerNormalization", "Softplus"));
        assertTrue(Files.exists(tmp.resolve(m.name() + ".onnx.data")));
    }

    @Test
    void flat() throws Exception {
        VisionModel m = ModelRegistry.create("flat_tiny");
        check(m, 224, 224, OnnxExporter.Options.of(224, 224), List.of("Scan", "Conv", "LayerNormalization"));
    }
}
