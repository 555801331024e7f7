package org.mambavision.models.nn;

import java.util.SplittableRandom;
import org.mambavision.engine.Tape;
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
        return convolve(x, weight, bias);
    }

    /**
     * bn(conv(x)). In evaluation with no gradient to record, the BatchNorm's running statistics are folded
     * into the convolution (weight * s and (bias - mean) * s + beta per output channel, s = gamma /
     * sqrt(var + eps), computed in double as the BatchNorm op does): one pass over the output instead of
     * two, equal up to float rounding. Otherwise the two layers run as written.
     */
    public Tensor forwardWithBatchNorm(Tensor x, BatchNorm2d bn) {
        if (training() || bn.training() || Tape.needsGrad(x, weight, bias, bn.weight, bn.bias)) return bn.forward(forward(x));
        int perOut = in * kernel * kernel;
        Tensor w = Tensor.empty(weight.shape()), b = Tensor.empty(out);
        for (int c = 0; c < out; c++) {
            double s = bn.weight.data[c] / Math.sqrt(bn.runningVar.data[c] + (double) bn.eps);
            for (int i = c * perOut; i < (c + 1) * perOut; i++) w.data[i] = (float) (weight.data[i] * s);
            double conv = bias == null ? 0 : bias.data[c];
            b.data[c] = (float) ((conv - bn.runningMean.data[c]) * s + bn.bias.data[c]);
        }
        return convolve(x, w, b);
    }

    private Tensor convolve(Tensor x, Tensor w, Tensor b) {
        Tensor y = org.mambavision.engine.ops.Conv2d.forward(x, w, b, stride, padding);
        Profiler.addMacs((long) y.numel() * in * kernel * kernel);
        return y;
    }
}
