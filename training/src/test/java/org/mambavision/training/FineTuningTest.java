package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.ModelSpec;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.optim.Optimizer;
import org.mambavision.training.optim.Optimizers;

class FineTuningTest {
    @TempDir
    Path tmp;

    private static Map<String, float[]> snapshot(VisionModel m) {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.stateDict().forEach((k, t) -> s.put(k, t.data.clone()));
        return s;
    }

    /** Trains a few steps with freeze: backbone; every backbone tensor (BatchNorm statistics too) must keep its bits. */
    private static void assertOnlyTheHeadTrains(VisionModel model, java.util.function.Supplier<VisionModel> replicas, int shards) {
        TrainConfig cfg = TrainConfig.defaults();
        cfg.freeze = FineTuning.BACKBONE;
        FineTuning.freeze(model, cfg.freeze);
        Map<String, float[]> before = snapshot(model);
        List<String> log = new java.util.ArrayList<>();
        Optimizer opt = Optimizers.create("adamw", FineTuning.paramGroups(model, cfg, log::add), 0.05, 0.9, 0.999, 1e-8, 0.9, false);
        assertTrue(log.get(0).startsWith("freeze: backbone"), log.toString());
        TrainStep step = new TrainStep(model, replicas, shards);
        SplittableRandom rng = new SplittableRandom(3);
        for (int s = 0; s < 3; s++) {
            FineTuning.trainMode(model, cfg.freeze);
            Tensor x = Tensor.randn(rng, 1f, 6, 3, 32, 32);
            int[] labels = {0, 1, 2, 0, 1, 2};
            try (var buffers = BufferPool.open()) {
                step.run(x, labels, null, 0.1f, 1f);
            }
            model.namedParameters().forEach((k, t) -> {
                if (k.startsWith("head.")) assertNotNull(t.grad, k);
                else assertNull(t.grad, "no gradient is computed for the frozen " + k);
            });
            opt.step(0.01f);
            opt.zeroGrad();
        }
        Map<String, float[]> after = snapshot(model);
        int changed = 0;
        for (String k : before.keySet()) {
            if (k.startsWith("head.")) {
                if (!java.util.Arrays.equals(before.get(k), after.get(k))) changed++;
            } else {
                assertArrayEquals(before.get(k), after.get(k), k + " is frozen");
            }
        }
        assertEquals(2, changed, "head weight and bias train");
    }

    @Test
    void frozenBackboneOfAHierarchicalModelDoesNotChange() {
        // BatchNorm: the frozen backbone's running statistics must stay too
        VisionModel m = ModelRegistry.create("mambavision_mini", new ModelOptions(3, 3, 0.2f, null, 32, null, null, null, null, 1L));
        assertOnlyTheHeadTrains(m, null, 1);
    }

    @Test
    void frozenBackboneOfAFlatModelDoesNotChangeDataParallel() {
        java.util.function.Supplier<VisionModel> make = () -> ModelRegistry.create("flat_tiny", new ModelOptions(3, 3, 0f, null, 32, 2, null, null, 8, 1L));
        assertOnlyTheHeadTrains(make.get(), make, 3);
    }

    private static VisionModel flat(int classes, int depth) {
        return ModelRegistry.create("flat_tiny", new ModelOptions(3, classes, null, null, 32, depth, null, null, 8, 9L));
    }

    /** One of our training checkpoints, with optimizer and EMA state, of a 10-class flat model. */
    private Path trainingCheckpoint(VisionModel src) throws Exception {
        Map<String, Tensor> opt = new LinkedHashMap<>(), ema = new LinkedHashMap<>();
        src.namedParameters().forEach((k, t) -> {
            opt.put("exp_avg." + k, Tensor.zeros(t.shape()));
            ema.put(k, t.copy());
        });
        Path f = tmp.resolve("last.safetensors");
        ModelSpec spec = new ModelSpec("flat_tiny", 3, src.numClasses(), 32, null, null, 2, null, null, 8);
        TrainCheckpoint.save(f, new TrainCheckpoint.State(spec, src.stateDict(), opt, ema, List.of(), Map.of("epoch", "1"), null));
        return f;
    }

    @Test
    void trainingCheckpointLoadsWithHeadReinitialised() throws Exception {
        VisionModel src = flat(10, 2);
        Path ckpt = trainingCheckpoint(src);
        VisionModel m = flat(3, 2);
        float[] headBefore = m.stateDict().get("head.weight").data.clone();
        Weights.LoadReport r = FineTuning.loadPretrained(m, ckpt, true);
        assertEquals(new Weights.HeadReset(List.of("head.weight", "head.bias"), 3, 10), r.headReset());
        assertEquals(List.of(), r.unexpected(), "optimizer and EMA tensors are not model tensors");
        assertEquals(List.of(), r.missing());
        assertEquals(List.of(), r.mismatched());
        assertEquals(m.stateDict().size() - 2, r.loaded().size());
        assertTrue(r.describe().contains("head re-initialised for 3 classes (the file has 10)"), r.describe());
        assertArrayEquals(headBefore, m.stateDict().get("head.weight").data, "the head keeps its fresh initialisation");
        assertArrayEquals(src.stateDict().get("blocks.1.mlp.fc2.weight").data, m.stateDict().get("blocks.1.mlp.fc2.weight").data);

        // same class count: the head loads too and the report is clean
        VisionModel same = flat(10, 2);
        Weights.LoadReport all = FineTuning.loadPretrained(same, ckpt, true);
        assertTrue(all.clean(), all.describe());
        assertArrayEquals(src.stateDict().get("head.weight").data, same.stateDict().get("head.weight").data);
    }

    @Test
    void mismatchedBackboneIsAnErrorUnlessNotStrict() throws Exception {
        VisionModel src = flat(10, 2);
        Path ckpt = trainingCheckpoint(src);
        VisionModel deeper = flat(10, 3);
        Map<String, float[]> before = snapshot(deeper);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FineTuning.loadPretrained(deeper, ckpt, true));
        assertTrue(e.getMessage().contains(ckpt.toString()) && e.getMessage().contains("the backbone does not match flat_tiny")
                && e.getMessage().contains("missing key(s)") && e.getMessage().contains("blocks.2.norm1.weight")
                && e.getMessage().contains("pretrained_strict: false"), e.getMessage());
        snapshot(deeper).forEach((k, v) -> assertArrayEquals(before.get(k), v, "strict failure changes nothing: " + k));

        Weights.LoadReport r = FineTuning.loadPretrained(deeper, ckpt, false);
        assertFalse(r.backboneMatches());
        assertTrue(r.missing().contains("blocks.2.norm1.weight"), r.missing().toString());
        assertArrayEquals(src.stateDict().get("blocks.1.mlp.fc2.weight").data, deeper.stateDict().get("blocks.1.mlp.fc2.weight").data);

        // another architecture entirely
        VisionModel hier = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10));
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> FineTuning.loadPretrained(hier, ckpt, true));
        assertTrue(other.getMessage().contains("unexpected key(s)") && other.getMessage().contains("patch_embed.proj.weight"), other.getMessage());
    }
}
