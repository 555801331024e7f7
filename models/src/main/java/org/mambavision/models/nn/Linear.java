package org.mambavision.models.nn;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;

/** nn.Linear: {@code weight} (out, in), optional {@code bias} (out). */
public final class Linear extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final int in, out;

    public Linear(int in, int out, boolean bias, SplittableRandom rng) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", Init.truncNormal(rng, 0.02f, out, in));
        this.bias = bias ? param("bias", Tensor.zeros(out)) : null;
    }

    public Tensor forward(Tensor x) {
        Profiler.addMacs((long) (x.numel() / in) * in * out);
        return org.mambavision.engine.ops.Linear.forward(x, weight, bias);
    }
}
