package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tensor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;

class LayerDecayTest {
    /** The expected id of a hierarchical name: stem 0, blocks by depth, a downsampler with the next level's first block, then the rest. */
    private static int expectedHierarchical(String name, int[] depths) {
        int total = 0;
        for (int d : depths) total += d;
        if (name.startsWith("patch_embed.")) return 0;
        String[] p = name.split("\\.");
        if (!p[0].equals("levels")) return total + 1;
        int level = Integer.parseInt(p[1]), before = 0;
        for (int i = 0; i < level; i++) before += depths[i];
        return p[2].equals("blocks") ? before + Integer.parseInt(p[3]) + 1 : before + depths[level] + 1;
    }

    @Test
    void hierarchicalLayerIdsFollowDepth() {
        VisionModel m = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(5));
        int[] depths = ModelRegistry.hierarchicalConfig("mambavision_mini").depths();
        LayerDecay.Layers layers = LayerDecay.layers(m.namedParameters().keySet());
        assertEquals(7, layers.numLayers(), "mambavision_mini has 1+2+2+2 blocks");
        assertEquals(m.namedParameters().keySet(), layers.ids().keySet());
        layers.ids().forEach((n, id) -> assertEquals(expectedHierarchical(n, depths), id, n));
        // spot checks written out, so the helper above cannot hide a shared mistake
        assertEquals(0, layers.ids().get("patch_embed.conv_down.0.weight"));
        assertEquals(1, layers.ids().get("levels.0.blocks.0.conv1.weight"));
        assertEquals(2, layers.ids().get("levels.0.downsample.reduction.0.weight"));
        assertEquals(2, layers.ids().get("levels.1.blocks.0.conv1.weight"));
        assertEquals(3, layers.ids().get("levels.1.blocks.1.conv1.weight"));
        assertEquals(6, layers.ids().get("levels.2.downsample.reduction.0.weight"));
        assertEquals(7, layers.ids().get("levels.3.blocks.1.mlp.fc2.weight"));
        assertEquals(8, layers.ids().get("norm.weight"));
        assertEquals(8, layers.ids().get("head.weight"));
    }

    @Test
    void officialTinyHasSixteenBlocks() {
        // names only: layer ids depend on nothing else
        Map<String, Integer> ids = LayerDecay.layers(java.util.List.of("patch_embed.conv_down.0.weight", "levels.0.blocks.0.conv1.weight",
                "levels.0.downsample.reduction.0.weight", "levels.1.blocks.2.conv2.bias", "levels.2.blocks.7.mixer.qkv.weight",
                "levels.2.downsample.reduction.0.weight", "levels.3.blocks.3.gamma_1", "norm.running_mean", "head.bias")).ids();
        // depths seen in the names: level 0: 1, level 1: 3, level 2: 8, level 3: 4 (as mambavision_t)
        assertEquals(Map.of("patch_embed.conv_down.0.weight", 0, "levels.0.blocks.0.conv1.weight", 1,
                "levels.0.downsample.reduction.0.weight", 2, "levels.1.blocks.2.conv2.bias", 4, "levels.2.blocks.7.mixer.qkv.weight", 12,
                "levels.2.downsample.reduction.0.weight", 13, "levels.3.blocks.3.gamma_1", 16, "norm.running_mean", 17, "head.bias", 17), ids);
    }

    @Test
    void flatModelScales() {
        VisionModel m = ModelRegistry.create("flat_tiny", new ModelOptions(3, 4, null, null, 32, 3, null, null, 8, 0));
        Map<String, Double> s = LayerDecay.scales(m.namedParameters().keySet(), 0.5);
        // 3 blocks: stem id 0 -> 0.5^4, block i -> 0.5^(3 - i), norm and head -> 1
        assertEquals(0.0625, s.get("patch_embed.proj.weight"));
        assertEquals(0.125, s.get("blocks.0.norm1.weight"));
        assertEquals(0.25, s.get("blocks.1.mlp.fc1.weight"));
        assertEquals(0.5, s.get("blocks.2.mlp.fc2.bias"));
        assertEquals(1.0, s.get("norm.weight"));
        assertEquals(1.0, s.get("head.weight"));
        assertThrows(IllegalArgumentException.class, () -> LayerDecay.scales(m.namedParameters().keySet(), 0));
        assertThrows(IllegalArgumentException.class, () -> LayerDecay.scales(m.namedParameters().keySet(), 1.2));
    }

    private static Tensor param(float... v) {
        return Tensor.of(v.clone(), 2, v.length / 2).requiresGrad(true);
    }

    /** Each optimizer moves every parameter by its own learning rate: lr times its layer's scale. */
    @Test
    void optimizersStepWithPerParameterLearningRates() {
        for (String opt : new String[] {"sgd", "sgd-nesterov", "adamw", "lamb"}) {
            Map<String, Tensor> named = new LinkedHashMap<>();
            named.put("patch_embed.proj.weight", param(1, 2, 3, 4));
            named.put("blocks.0.mlp.fc1.weight", param(1, 2, 3, 4));
            named.put("blocks.1.mlp.fc1.weight", param(1, 2, 3, 4));
            named.put("head.weight", param(1, 2, 3, 4));
            ParamGroups g = ParamGroups.of(named).withLayerDecay(0.5);
            assertEquals(0.125, g.lrScale("patch_embed.proj.weight"));
            assertEquals(0.25, g.lrScale("blocks.0.mlp.fc1.weight"));
            assertEquals(0.5, g.lrScale("blocks.1.mlp.fc1.weight"));
            assertEquals(1.0, g.lrScale("head.weight"));
            Optimizer o = Optimizers.create(opt.replace("-nesterov", ""), g, 0, 0.9, 0.999, 1e-8, 0.9, opt.endsWith("-nesterov"));
            for (Tensor t : named.values()) t.grad = new float[] {0.5f, -0.25f, 1f, 2f};
            o.step(0.1f);
            double headDelta = delta(named.get("head.weight"));
            assertTrue(headDelta > 0, opt);
            for (Map.Entry<String, Tensor> e : named.entrySet()) {
                assertEquals(g.lrScale(e.getKey()) * headDelta, delta(e.getValue()), 1e-6 * headDelta, opt + " " + e.getKey());
            }
        }
    }

    /** Norm of the change from the common start (1, 2, 3, 4). */
    private static double delta(Tensor t) {
        double s = 0;
        for (int i = 0; i < 4; i++) s += Math.pow(t.data[i] - (i + 1), 2);
        return Math.sqrt(s);
    }

    @Test
    void noDecayLeavesEveryScaleAtOne() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("patch_embed.proj.weight", param(1, 2, 3, 4));
        named.put("head.weight", param(1, 2, 3, 4));
        ParamGroups g = ParamGroups.of(named);
        assertEquals(1.0, g.lrScale("patch_embed.proj.weight"));
        assertEquals(1.0, g.withLayerDecay(1.0).lrScale("patch_embed.proj.weight"));
    }
}
