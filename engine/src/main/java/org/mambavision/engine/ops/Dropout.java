package org.mambavision.engine.ops;

import java.util.SplittableRandom;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Elementwise dropout: each element kept with probability 1 - p and scaled by 1 / (1 - p).
 * Returns x itself when not training or p == 0. The mask is drawn sequentially from {@code rng},
 * so a seed reproduces it regardless of the thread count.
 */
public final class Dropout {
    private static final int GRAIN = 16384;

    private Dropout() {}

    public static Tensor forward(Tensor x, float p, boolean training, SplittableRandom rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("Dropout: p " + p + " not in [0, 1] for " + x.shapeString());
        if (!training || p == 0) return x;
        float keep = 1 - p;
        float kept = keep > 0 ? 1f / keep : 0f;
        float[] factor = new float[x.numel()];
        for (int i = 0; i < factor.length; i++) factor[i] = rng.nextDouble() < keep ? kept : 0f;
        return applyMask(x, factor, 1);
    }

    /** out = x * factor[i / group]: one factor per run of {@code group} elements (1 = per element). */
    static Tensor applyMask(Tensor x, float[] factor, int group) {
        Tensor out = Tensor.empty(x.shape());
        scaleGroups(x.data, factor, group, out.data, false);
        Tape.record(out, () -> {
            boolean fresh = x.allocateGradForOverwrite();
            scaleGroups(out.grad, factor, group, x.grad, !fresh);
        }, x);
        return out;
    }

    static void scaleGroups(float[] src, float[] factor, int group, float[] dst, boolean accumulate) {
        if (group == 1) {
            Parallel.forRange(src.length, GRAIN, (i0, i1) -> {
                if (accumulate) for (int i = i0; i < i1; i++) dst[i] += src[i] * factor[i];
                else for (int i = i0; i < i1; i++) dst[i] = src[i] * factor[i];
            });
            return;
        }
        Parallel.forRange(factor.length, Math.max(1, GRAIN / Math.max(1, group)), (g0, g1) -> {
            for (int gi = g0; gi < g1; gi++) {
                int off = gi * group;
                if (accumulate) VecMath.axpy(group, factor[gi], src, off, dst, off);
                else {
                    System.arraycopy(src, off, dst, off, group);
                    VecMath.scaleInPlace(dst, off, group, factor[gi]);
                }
            }
        });
    }
}
