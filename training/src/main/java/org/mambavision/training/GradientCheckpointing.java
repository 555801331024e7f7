package org.mambavision.training;

import org.mambavision.models.VisionModel;
import org.mambavision.models.blocks.Block;
import org.mambavision.models.nn.Module;

/** Turns on per-block activation recomputation for every token block of a model. */
public final class GradientCheckpointing {
    private GradientCheckpointing() {}

    public static int enable(VisionModel model) {
        return walk((Module) model);
    }

    private static int walk(Module m) {
        int n = 0;
        if (m instanceof Block b) {
            b.setCheckpointing(true);
            n++;
        }
        for (Module c : m.children().values()) n += walk(c);
        return n;
    }
}
