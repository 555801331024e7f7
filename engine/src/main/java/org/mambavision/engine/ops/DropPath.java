package org.mambavision.engine.ops;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;

/**
 * Stochastic depth as timm's drop_path: each sample (index along dim 0) is kept with probability
 * 1 - p and scaled by 1 / (1 - p), or zeroed. Returns x itself when not training or p == 0.
 */
public final class DropPath {
    private DropPath() {}

    public static Tensor forward(Tensor x, float p, boolean training, SplittableRandom rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("DropPath: p " + p + " not in [0, 1] for " + x.shapeString());
        if (!training || p == 0) return x;
        if (x.rank() == 0) throw new IllegalArgumentException("DropPath: needs a batch dimension, got shape " + x.shapeString());
        int batch = x.dim(0);
        float keep = 1 - p;
        // timm divides by keep_prob only when it is > 0; with p == 1 every sample is zero anyway
        float kept = keep > 0 ? 1f / keep : 0f;
        float[] factor = new float[batch];
        for (int i = 0; i < batch; i++) factor[i] = rng.nextDouble() < keep ? kept : 0f;
        return Dropout.applyMask(x, factor, batch == 0 ? 0 : x.numel() / batch);
    }
}
