package org.mambavision.training.optim;

import org.mambavision.engine.Parallel;

/**
 * timm's Lamb (NVIDIA FusedLAMB variant, bias correction and grad averaging on, decay not decoupled).
 *
 * <p>Per step t (one count for the optimizer): gradients are divided by max(1, ||g||_global / maxGradNorm)
 * when maxGradNorm &gt; 0 (timm's built-in clip, default 1.0; p.grad is left unchanged);
 * m = beta1 m + (1-beta1) g; v = beta2 v + (1-beta2) g^2;
 * u = (m/(1-beta1^t)) / (sqrt(v)/sqrt(1-beta2^t) + eps) + wd p;
 * for parameters with wd != 0 (or all, with alwaysAdapt) u *= ||p|| / ||u|| (1 when either norm is 0,
 * clamped to at most 1 with trustClip); p -= lr u. Norms are computed in double.
 *
 * <p>State: {@code exp_avg.<name>}, {@code exp_avg_sq.<name>}.
 */
public final class Lamb extends BaseOptimizer {
    private static final int EXP_AVG = 0, EXP_AVG_SQ = 1;
    private final double beta1, beta2, eps, maxGradNorm;
    private final boolean alwaysAdapt, trustClip;
    private double lastTrustMin = Double.NaN, lastTrustMax = Double.NaN;

    /** timm defaults for the rest: maxGradNorm 1.0, no trust clip, adaptation only where wd != 0. */
    public Lamb(ParamGroups groups, double beta1, double beta2, double eps, double weightDecay) {
        this(groups, beta1, beta2, eps, weightDecay, 1.0, false, false);
    }

    /** @param maxGradNorm timm's built-in global gradient clip; 0 disables it */
    public Lamb(ParamGroups groups, double beta1, double beta2, double eps, double weightDecay, double maxGradNorm,
                boolean alwaysAdapt, boolean trustClip) {
        super(groups, weightDecay, "exp_avg", "exp_avg_sq");
        checkBeta("Lamb", "beta1", beta1);
        checkBeta("Lamb", "beta2", beta2);
        checkEps("Lamb", eps);
        if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("Lamb: maxGradNorm must be >= 0 (0 = off), got " + maxGradNorm);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.maxGradNorm = maxGradNorm;
        this.alwaysAdapt = alwaysAdapt;
        this.trustClip = trustClip;
    }

    @Override
    void update(float lr, int[] active, ParamChunks chunks) {
        int n = active.length, nc = chunks.count();
        if (n == 0) return;
        for (int i : active) {
            slot(EXP_AVG, i);
            slot(EXP_AVG_SQ, i);
        }
        float gradDiv = 1f;
        if (maxGradNorm > 0) {
            double[] partial = new double[nc];
            Parallel.forEach(nc, c -> partial[c] = OptimKernels.sumSquares(tensors[active[chunks.owner[c]]].grad, chunks.start[c], chunks.end[c]));
            double norm = Math.sqrt(ParamChunks.sumAll(partial));
            gradDiv = (float) Math.max(1.0, norm / maxGradNorm);
        }
        long t = stepCount;
        float b1 = (float) beta1, beta3 = (float) (1 - beta1), b2 = (float) beta2, oneMinusB2 = (float) (1 - beta2);
        float bc1 = (float) (1 - Math.pow(beta1, t)), bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, t)), e = (float) eps;
        double[] sums = new double[2 * nc];
        float div = gradDiv;
        Parallel.forEach(nc, c -> {
            int i = active[chunks.owner[c]];
            double[] s = new double[2];
            OptimKernels.lambMoments(tensors[i].data, tensors[i].grad, slots[EXP_AVG][i], slots[EXP_AVG_SQ][i],
                    chunks.start[c], chunks.end[c], div, b1, beta3, b2, oneMinusB2, bc1, bc2Sqrt, e, (float) weightDecay[i], s);
            sums[2 * c] = s[0];
            sums[2 * c + 1] = s[1];
        });
        float[] trust = new float[n];
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            int i = active[k];
            double pSq = 0, uSq = 0;
            for (int c = chunks.firstChunk[k]; c < chunks.firstChunk[k + 1]; c++) {
                pSq += sums[2 * c];
                uSq += sums[2 * c + 1];
            }
            double r = 1;
            if (weightDecay[i] != 0 || alwaysAdapt) {
                double wNorm = Math.sqrt(pSq), uNorm = Math.sqrt(uSq);
                r = wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1;
                if (trustClip) r = Math.min(r, 1);
                lo = Math.min(lo, r);
                hi = Math.max(hi, r);
            }
            trust[k] = (float) r;
        }
        lastTrustMin = lo;
        lastTrustMax = hi;
        Parallel.forEach(nc, c -> {
            int k = chunks.owner[c], i = active[k];
            OptimKernels.lambApply(tensors[i].data, slots[EXP_AVG][i], slots[EXP_AVG_SQ][i], chunks.start[c], chunks.end[c],
                    bc1, bc2Sqrt, e, (float) weightDecay[i], trust[k], (float) (lr * lrScale[i]));
        });
    }

    /** Smallest trust ratio applied in the last step (NaN before the first, +inf when none was adapted); for logging. */
    public double lastTrustRatioMin() {
        return lastTrustMin;
    }

    /** Largest trust ratio applied in the last step; for logging. */
    public double lastTrustRatioMax() {
        return lastTrustMax;
    }
}
