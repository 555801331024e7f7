package org.mambavision.models.blocks;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.models.nn.LinearLayer;
import org.mambavision.models.nn.Module;

/** timm Mlp: fc1 -> exact (erf) GELU -> fc2. */
public final class Mlp extends Module {
    final LinearLayer fc1, fc2;

    public Mlp(int dim, int hidden, SplittableRandom rng) {
        fc1 = child("fc1", new LinearLayer(dim, hidden, true, rng));
        fc2 = child("fc2", new LinearLayer(hidden, dim, true, rng));
    }

    public Tensor forward(Tensor x) {
        return fc2.forward(fc1.forward(x, Activations.Function.GELU));
    }
}
