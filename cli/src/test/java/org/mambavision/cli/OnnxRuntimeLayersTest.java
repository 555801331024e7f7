package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;
import org.mambavision.export.OnnxExporter;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.ModelSummary;
import org.mambavision.models.VisionModel;

/** {@code bench model --layers --runtime onnxruntime}: the export names nodes by layer, and ONNX Runtime's profile adds up by them. */
class OnnxRuntimeLayersTest {
    @TempDir
    Path dir;

    private static Set<String> layers(VisionModel m, int size) {
        Set<String> names = new LinkedHashSet<>();
        for (var r : ModelSummary.of(m, size, size).rows()) names.add(r.name());
        return names;
    }

    @Test
    void exportedNodesAreNamedAfterTheirLayers() throws Exception {
        VisionModel m = ModelRegistry.create("mambavision_mini");
        Path file = dir.resolve("mini.onnx");
        OnnxExporter.export(m, ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m), OnnxExporter.Options.of(64, 64), file);
        Set<String> layers = layers(m, 64);
        List<OnnxGraphNodes.Node> nodes = OnnxGraphNodes.read(file);
        assertFalse(nodes.isEmpty());
        Set<String> seen = new LinkedHashSet<>();
        for (OnnxGraphNodes.Node n : nodes) {
            String prefix = n.name().substring(0, Math.max(0, n.name().indexOf('/')));
            assertTrue(layers.contains(prefix), n.name() + " is not named after a layer of " + layers);
            seen.add(prefix);
        }
        assertEquals(layers, seen, "every layer has nodes, in the summary's order");
    }

    @Test
    void fusedNodesTakeTheLayerOfAConstantTheyReadElseOfAValueTheyWriteOrRead() {
        Set<String> layers = Set.of("a", "b");
        List<OnnxGraphNodes.Node> exported = List.of(
                new OnnxGraphNodes.Node("a/Conv_0", List.of("images", "w0", "const_1"), List.of("Conv_2")),
                new OnnxGraphNodes.Node("a/Relu_1", List.of("Conv_2"), List.of("Relu_3")),
                new OnnxGraphNodes.Node("b/Conv_2", List.of("Relu_3", "w1"), List.of("Conv_4")),
                new OnnxGraphNodes.Node("b/Add_3", List.of("Conv_4", "Relu_3"), List.of("Add_5")));
        List<OnnxGraphNodes.Node> optimized = List.of(
                new OnnxGraphNodes.Node("Relu_1_nchwc", List.of("images", "reorder", "const_1"), List.of("reorder_token_1")),
                new OnnxGraphNodes.Node("Conv_9_nchwc", List.of("reorder_token_1", "w1", "reorder_token_2"), List.of("reorder_token_3")),
                new OnnxGraphNodes.Node("ReorderOutput_token_4", List.of("reorder_token_3"), List.of("Add_5")),
                new OnnxGraphNodes.Node("ReorderInput", List.of("Relu_3"), List.of("reorder_token_5")),
                new OnnxGraphNodes.Node("b/Add_3", List.of("Conv_4", "Relu_3"), List.of("Add_5")),
                new OnnxGraphNodes.Node("Transpose", List.of("a/Unsqueeze_7"), List.of("t")),
                new OnnxGraphNodes.Node("Mystery", List.of("x"), List.of("y")));
        Map<String, String> layerOf = OrtProfile.layerOfNodes(exported, optimized, layers);
        assertEquals("a", layerOf.get("Relu_1_nchwc"));          // reads a's folded bias
        assertEquals("b", layerOf.get("Conv_9_nchwc"));          // reads b's weight
        assertEquals("b", layerOf.get("ReorderOutput_token_4")); // writes b's value
        assertEquals("a", layerOf.get("ReorderInput"));          // reads a's value
        assertEquals("b", layerOf.get("b/Add_3"));               // its own name
        assertEquals("a", layerOf.get("Transpose"));             // a value named after a layer's node
        assertEquals(OrtProfile.UNATTRIBUTED, layerOf.get("Mystery"));
    }

    @Test
    void profiledLayerTimesComeFromTheTimedRunsOnlyAndAddUpWithinThem() throws Exception {
        VisionModel m = ModelRegistry.create("mambavision_mini");
        m.freezeForInference();
        Set<String> layers = layers(m, 64);
        Tensor x = Tensor.randn(new SplittableRandom(1), 1f, 1, 3, 64, 64);
        int runs = 5;
        Map<String, Double> ms;
        long wall;
        try (OnnxRuntimeSession s = new OnnxRuntimeSession(m, 64, 64, 2, true)) {
            for (int i = 0; i < 3; i++) s.run(x); // warm-up, not counted
            long start = System.nanoTime();
            for (int i = 0; i < runs; i++) s.run(x);
            wall = System.nanoTime() - start;
            ms = s.layerMillis(runs, layers);
        }
        assertTrue(layers.containsAll(ms.keySet()), "every node placed in a layer: " + ms.keySet());
        assertTrue(ms.keySet().containsAll(Set.of("patch_embed", "levels.2.blocks.0", "levels.3.blocks.1", "head")), ms.keySet().toString());
        double perRun = ms.values().stream().mapToDouble(Double::doubleValue).sum();
        assertTrue(perRun > 0);
        // kernel times lie inside the runs: counting the warm-up or a loop body's nodes beside their loop would exceed this
        assertTrue(perRun <= wall / 1e6 / runs, perRun + " ms of kernels per run, " + wall / 1e6 / runs + " ms per run");
    }
}
