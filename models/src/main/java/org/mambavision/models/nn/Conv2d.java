package org.mambavision.models.nn;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;

/** nn.Conv2d with square kernel, stride and padding. */
public final class Conv2d extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final int in, out, kernel, stride, padding;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, SplittableRandom rng) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        int fanIn = in * kernel * kernel;
        this.weight = param("weight", Init.kaimingUniform(rng, fanIn, out, in, kernel, kernel));
        this.bias = bias ? param("bias", Init.kaimingUniform(rng, fanIn, out)) : null;
    }

    public Tensor forward(Tensor x) {
        Tensor y = org.mambavision.engine.ops.Conv2d.forward(x, weight, bias, stride, padding);
        Profiler.addMacs((long) y.numel() * in * kernel * kernel);
        return y;
    }
}
