package org.mambavision.models;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.models.mambavision.MambaVision;

/** The fine-tuning load report, conversion to annotated safetensors, and recognising a model from its tensors. */
class WeightsTest {
    @TempDir
    Path tmp;

    private static float[] logits(VisionModel m, Tensor input) {
        m.train(false);
        try (var ng = Tape.noGrad()) {
            return m.forward(input).data.clone();
        }
    }

    @Test
    void officialCheckpointConvertsToSafetensorsWithIdenticalLogits() throws Exception {
        GoldenCase c = GoldenModelTest.golden("mini");
        MambaVision fromTorch = GoldenModelTest.load(c, "checkpoint.pth.tar");
        Path out = tmp.resolve("mini.safetensors");
        Weights.save(fromTorch, out, Map.of("model", c.config().name()));
        MambaVision converted = new MambaVision(c.config(), 99);
        assertTrue(Weights.load(converted, out, true).clean());
        try (Safetensors ref = Safetensors.open(c.dir().resolve("eval.safetensors")); Safetensors st = Safetensors.open(out)) {
            Tensor input = ref.tensor("input");
            float[] a = logits(fromTorch, input), b = logits(converted, input);
            assertArrayEquals(a, b, "bit for bit the same logits");
            GoldenCase.assertClose("converted logits", Tensor.of(b, b.length), ref.tensor("logits"), 1e-4);
            Map<String, String> meta = st.metadata();
            assertEquals(c.config().name(), meta.get("model"));
            assertEquals("I64", st.dtype("norm.num_batches_tracked"));
        }
    }

    @Test
    void pretrainedIntoFewerClassesReinitialisesOnlyTheHead() throws Exception {
        GoldenCase c = GoldenModelTest.golden("mini");
        MambaVision three = new MambaVision(c.config().withClasses(3), 5);
        float[] freshHead = three.stateDict().get("head.weight").data.clone();
        Weights.LoadReport r = Weights.loadPretrained(three, c.dir().resolve("checkpoint.pth.tar"), true);
        assertEquals(new Weights.HeadReset(List.of("head.weight", "head.bias"), 3, 10), r.headReset());
        assertTrue(r.backboneMatches() && !r.clean(), r.describe());
        assertEquals(three.stateDict().size() - 2, r.loaded().size());
        assertArrayEquals(freshHead, three.stateDict().get("head.weight").data);
        assertEquals(r.loaded().size() + " tensor(s) loaded; head re-initialised for 3 classes (the file has 10)", r.describe());

        // a file without any head (a backbone export) loads the same way
        Map<String, Tensor> noHead = new LinkedHashMap<>(Weights.read(c.dir().resolve("weights.safetensors")));
        noHead.keySet().removeIf(k -> k.startsWith(Weights.HEAD_PREFIX));
        Weights.LoadReport r2 = Weights.loadPretrained(new MambaVision(c.config(), 5), noHead, true);
        assertEquals(new Weights.HeadReset(List.of("head.weight", "head.bias"), 10, null), r2.headReset());
        assertTrue(r2.describe().contains("the file has no head"), r2.describe());

        // the plain strict loader still refuses a head of the wrong size
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Weights.load(new MambaVision(c.config().withClasses(3), 5), c.dir().resolve("checkpoint.pth.tar"), true));
        assertTrue(e.getMessage().contains("head.weight (model [3, 128], file [10, 128])"), e.getMessage());
    }

    @Test
    void registeredHierarchicalModelsAreRecognisedByTheirShapes() throws Exception {
        VisionModel mini = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(4));
        assertEquals(List.of("mambavision_mini"), Weights.hierarchicalModelsFitting(mini.stateDict()));
        GoldenCase c = GoldenModelTest.golden("mini");
        assertEquals(List.of(), Weights.hierarchicalModelsFitting(Weights.read(c.dir().resolve("weights.safetensors"))),
                "the golden configuration is not a registered model");
        assertEquals(List.of(), Weights.hierarchicalModelsFitting(ModelRegistry.create("flat_tiny").stateDict()));
        // names and the two stem shapes are all it reads: L2 and L2_512 share every shape
        Map<String, Tensor> l2 = new LinkedHashMap<>();
        l2.put("patch_embed.conv_down.0.weight", Tensor.zeros(64, 3, 1, 1));
        l2.put("patch_embed.conv_down.3.weight", Tensor.zeros(196, 64, 1, 1));
        int[] depths = {3, 3, 12, 5};
        for (int level = 0; level < 4; level++) {
            for (int b = 0; b < depths[level]; b++) l2.put("levels." + level + ".blocks." + b + ".norm1.weight", Tensor.zeros(1));
        }
        l2.put("levels.3.blocks.0.gamma_1", Tensor.zeros(1));
        assertEquals(List.of("mambavision_l2", "mambavision_l2_512"), Weights.hierarchicalModelsFitting(l2));
        l2.remove("levels.3.blocks.0.gamma_1");
        assertEquals(List.of(), Weights.hierarchicalModelsFitting(l2), "no layer scale: not L2");
    }
}
