package org.mambavision.engine.ops;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
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
        float[] factor = factors(x, p, rng);
        return Dropout.applyMask(x, factor, factor.length == 0 ? 0 : x.numel() / factor.length);
    }

    /** One factor per sample: 1 / (1 - p) kept, 0 dropped, drawn in sample order. */
    private static float[] factors(Tensor x, float p, SplittableRandom rng) {
        if (x.rank() == 0) throw new IllegalArgumentException("DropPath: needs a batch dimension, got shape " + x.shapeString());
        int batch = x.dim(0);
        float keep = 1 - p;
        // timm divides by keep_prob only when it is > 0; with p == 1 every sample is zero anyway
        float kept = keep > 0 ? 1f / keep : 0f;
        float[] factor = new float[batch];
        for (int i = 0; i < batch; i++) factor[i] = rng.nextDouble() < keep ? kept : 0f;
        return factor;
    }

    /**
     * x + drop_path(branch), a residual connection: in training one pass each way, instead of a scaled copy of
     * the branch and then an add (and their two backwards). The same bits and the same random draws as
     * {@code Arith.add(x, forward(branch, p, training, rng))}.
     */
    public static Tensor addForward(Tensor x, Tensor branch, float p, boolean training, SplittableRandom rng) {
        if (!training || p == 0 || !x.sameShape(branch)) return Arith.add(x, forward(branch, p, training, rng));
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("DropPath: p " + p + " not in [0, 1] for " + branch.shapeString());
        float[] factor = factors(branch, p, rng);
        int group = factor.length == 0 ? 0 : branch.numel() / factor.length;
        Tensor out = Tensor.empty(x.shape());
        float[] xd = x.data, bd = branch.data, od = out.data;
        // out = x + (branch * factor): the product rounded first, as the scaled copy was
        Parallel.forRange(factor.length, Math.max(1, GRAIN / Math.max(1, group)), (g0, g1) -> {
            for (int gi = g0; gi < g1; gi++) {
                int off = gi * group, i = 0, bound = S.loopBound(group);
                float f = factor[gi];
                for (; i < bound; i += S.length()) {
                    FloatVector.fromArray(S, xd, off + i).add(FloatVector.fromArray(S, bd, off + i).mul(f)).intoArray(od, off + i);
                }
                for (; i < group; i++) od[off + i] = xd[off + i] + bd[off + i] * f;
            }
        });
        Tape.record(out, () -> {
            float[] g = out.grad;
            if (x.requiresGrad()) Arith.addGrad(x, g, out.shape(), 1f);
            if (branch.requiresGrad()) {
                boolean fresh = branch.allocateGradForOverwrite();
                Dropout.scaleGroups(g, factor, group, branch.grad, !fresh);
            }
        }, x, branch);
        return out;
    }

    private static final int GRAIN = 16384;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
}
