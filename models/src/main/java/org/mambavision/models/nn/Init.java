package org.mambavision.models.nn;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;

/** Weight initialisers matching the official code's (timm trunc_normal_, PyTorch's default conv init). */
public final class Init {
    private Init() {}

    /** timm trunc_normal_(std): normal(0, std) truncated to [-2, 2] (absolute, as timm's defaults). */
    public static Tensor truncNormal(SplittableRandom rng, float std, int... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.data.length; i++) {
            double v;
            do {
                v = Tensor.gaussian(rng) * std;
            } while (v < -2 || v > 2);
            t.data[i] = (float) v;
        }
        return t;
    }

    /** PyTorch's default for conv weights: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    public static Tensor kaimingUniform(SplittableRandom rng, int fanIn, int... shape) {
        float bound = (float) (1.0 / Math.sqrt(Math.max(1, fanIn)));
        return Tensor.uniform(rng, -bound, bound, shape);
    }
}
