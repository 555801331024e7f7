package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tensor;

class ParamGroupsTest {
    @Test
    void noDecayByRankAndName() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("patch_embed.conv_in.weight", p(32, 3, 3, 3));
        named.put("patch_embed.conv_down.1.weight", p(32));        // BatchNorm weight: rank 1
        named.put("patch_embed.conv_down.1.bias", p(32));
        named.put("levels.2.blocks.0.mixer.A_log", p(8, 16));      // rank 2 but excluded by name
        named.put("levels.2.blocks.0.mixer.D", p(8));
        named.put("levels.2.blocks.0.mixer.in_proj.weight", p(64, 32));
        named.put("levels.2.blocks.0.mixer.x_proj.weight", p(24, 32));
        named.put("levels.3.blocks.1.gamma_1", p(64));
        named.put("levels.3.blocks.1.gamma_2", p(64));
        named.put("levels.3.blocks.1.gamma", p(1, 64));            // layer scale of another shape
        named.put("levels.3.blocks.1.mixer.qkv.bias", p(1, 192));  // a 2-D bias, still no decay
        named.put("levels.3.blocks.1.mixer.Dense.weight", p(4, 4)); // "D" only as a whole component
        named.put("head.weight", p(10, 64));
        named.put("head.bias", p(10));
        named.put("frozen.weight", Tensor.zeros(4, 4));              // requiresGrad false: left out

        ParamGroups g = ParamGroups.of(named);
        assertEquals(List.of("patch_embed.conv_in.weight", "levels.2.blocks.0.mixer.in_proj.weight",
                "levels.2.blocks.0.mixer.x_proj.weight", "levels.3.blocks.1.mixer.Dense.weight", "head.weight"),
                List.copyOf(g.decay().keySet()));
        assertEquals(List.of("patch_embed.conv_down.1.weight", "patch_embed.conv_down.1.bias",
                "levels.2.blocks.0.mixer.A_log", "levels.2.blocks.0.mixer.D", "levels.3.blocks.1.gamma_1",
                "levels.3.blocks.1.gamma_2", "levels.3.blocks.1.gamma", "levels.3.blocks.1.mixer.qkv.bias", "head.bias"),
                List.copyOf(g.noDecay().keySet()));
        assertEquals(14, g.size());
        assertTrue(ParamGroups.isNoDecay("D", p(3, 3)));
        assertFalse(ParamGroups.isNoDecay("weight_D", p(3, 3)));
        assertEquals(14, ParamGroups.allDecay(named).decay().size());
    }

    @Test
    void noDecayGroupIsNotDecayed() {
        Tensor w = Tensor.full(1f, 2, 2).requiresGrad(true), b = Tensor.full(1f, 2).requiresGrad(true);
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("fc.weight", w);
        named.put("fc.bias", b);
        w.grad = new float[4];
        b.grad = new float[2];
        new Sgd(ParamGroups.of(named), 0, 0.5, false).step(0.1f);
        assertEquals(0.95f, w.data[0], 1e-7f);  // zero gradient, decay only
        assertEquals(1f, b.data[0]);
    }

    private static Tensor p(int... shape) {
        return Tensor.zeros(shape).requiresGrad(true);
    }
}
