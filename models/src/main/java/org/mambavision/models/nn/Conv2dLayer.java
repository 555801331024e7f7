package org.mambavision.models.nn;

import java.util.SplittableRandom;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.Conv2d;

/** nn.Conv2d with square kernel, stride and padding. */
public final class Conv2dLayer extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final int in, out, kernel, stride, padding;

    public Conv2dLayer(int in, int out, int kernel, int stride, int padding, boolean bias, SplittableRandom rng) {
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
    public Tensor forwardWithBatchNorm(Tensor x, BatchNorm2dLayer bn) {
        return forwardWithBatchNorm(x, bn, null, null);
    }

    /**
     * act(bn(conv(x))) + residual (act, residual may be null). Folded as above, the activation and the residual
     * are applied as the convolution copies out its result (no passes of their own); otherwise the ops run as
     * written.
     */
    public Tensor forwardWithBatchNorm(Tensor x, BatchNorm2dLayer bn, Activations.Function act, Tensor residual) {
        if (training() || bn.training() || Tape.needsGrad(x, weight, bias, bn.weight, bn.bias, residual)) {
            Tensor y = bn.forward(forward(x));
            if (act != null) y = act.apply(y);
            return residual == null ? y : Arith.add(residual, y);
        }
        Folded f = folded;
        if (f == null || f.bn != bn) {
            f = fold(bn);
            if (frozen) folded = f;
        }
        Tensor y = Conv2d.forwardFused(x, f.weight, f.bias, stride, padding, act, residual);
        Profiler.addMacs((long) y.numel() * in * kernel * kernel);
        return y;
    }

    /** The convolution with a BatchNorm folded in; kept while the model is frozen for inference. */
    private record Folded(BatchNorm2dLayer bn, Conv2d.FrozenWeight weight, Tensor bias) {}

    private volatile Folded folded;
    private volatile boolean frozen;

    private Folded fold(BatchNorm2dLayer bn) {
        int perOut = in * kernel * kernel;
        // arrays of their own, not pooled buffers: a kept fold outlives the buffer-pool scope it was made in
        Tensor w = Tensor.of(new float[weight.numel()], weight.shape()), b = Tensor.of(new float[out], out);
        for (int c = 0; c < out; c++) {
            double s = bn.weight.data[c] / Math.sqrt(bn.runningVar.data[c] + (double) bn.eps);
            for (int i = c * perOut; i < (c + 1) * perOut; i++) w.data[i] = (float) (weight.data[i] * s);
            double conv = bias == null ? 0 : bias.data[c];
            b.data[c] = (float) ((conv - bn.runningMean.data[c]) * s + bn.bias.data[c]);
        }
        return new Folded(bn, new Conv2d.FrozenWeight(w), b);
    }

    @Override
    protected void frozen(boolean on) {
        frozen = on;
        folded = null;
    }

    private Tensor convolve(Tensor x, Tensor w, Tensor b) {
        Tensor y = Conv2d.forward(x, w, b, stride, padding);
        Profiler.addMacs((long) y.numel() * in * kernel * kernel);
        return y;
    }
}
