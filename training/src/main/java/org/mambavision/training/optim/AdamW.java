package org.mambavision.training.optim;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mambavision.engine.Parallel;

/**
 * torch.optim.AdamW (amsgrad off): p *= 1 - lr*wd; m = lerp(m, g, 1-beta1); v = beta2 v + (1-beta2) g^2;
 * p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps), with t counted per parameter (steps in
 * which it had a gradient), as torch does.
 *
 * <p>State: {@code exp_avg.<name>}, {@code exp_avg_sq.<name>}, {@code step.<name>} (one value; exact
 * below 2^24 steps).
 */
public final class AdamW extends BaseOptimizer {
    private static final int EXP_AVG = 0, EXP_AVG_SQ = 1;
    private final double beta1, beta2, eps;
    private final long[] steps;

    /** torch defaults: betas (0.9, 0.999), eps 1e-8; weight decay for the decay group. */
    public AdamW(ParamGroups groups, double weightDecay) {
        this(groups, 0.9, 0.999, 1e-8, weightDecay);
    }

    public AdamW(ParamGroups groups, double beta1, double beta2, double eps, double weightDecay) {
        super(groups, weightDecay, "exp_avg", "exp_avg_sq");
        checkBeta("AdamW", "beta1", beta1);
        checkBeta("AdamW", "beta2", beta2);
        checkEps("AdamW", eps);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.steps = new long[names.length];
    }

    @Override
    void update(float lr, int[] active, ParamChunks chunks) {
        int n = active.length;
        float[] decayMul = new float[n], stepSize = new float[n], bc2Sqrt = new float[n];
        for (int k = 0; k < n; k++) {
            int i = active[k];
            slot(EXP_AVG, i);
            slot(EXP_AVG_SQ, i);
            long t = ++steps[i];
            double lri = lr * lrScale[i];
            decayMul[k] = (float) (1 - lri * weightDecay[i]);
            stepSize[k] = (float) (lri / (1 - Math.pow(beta1, t)));
            bc2Sqrt[k] = (float) Math.sqrt(1 - Math.pow(beta2, t));
        }
        float oneMinusB1 = (float) (1 - beta1), b2 = (float) beta2, oneMinusB2 = (float) (1 - beta2), e = (float) eps;
        Parallel.forEach(chunks.count(), c -> {
            int k = chunks.owner[c], i = active[k];
            OptimKernels.adamw(tensors[i].data, tensors[i].grad, slots[EXP_AVG][i], slots[EXP_AVG_SQ][i],
                    chunks.start[c], chunks.end[c], decayMul[k], oneMinusB1, b2, oneMinusB2, bc2Sqrt[k], e, stepSize[k]);
        });
    }

    @Override
    public Map<String, float[]> state() {
        Map<String, float[]> out = super.state();
        for (int i = 0; i < names.length; i++) {
            if (slots[EXP_AVG][i] != null) out.put("step." + names[i], new float[] {steps[i]});
        }
        return out;
    }

    /** Entries {@code step.<name>} restore per-parameter step counts; where absent, a parameter with moments gets {@code stepCount}. */
    @Override
    public void loadState(Map<String, float[]> state, long stepCount) {
        Map<String, float[]> moments = new LinkedHashMap<>();
        Map<String, Long> paramSteps = new HashMap<>();
        Map<String, Integer> byName = indexByName();
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            if (!e.getKey().startsWith("step.")) {
                moments.put(e.getKey(), e.getValue());
                continue;
            }
            String name = e.getKey().substring(5);
            float[] v = e.getValue();
            if (!byName.containsKey(name) || v == null || v.length != 1 || !(v[0] >= 0) || v[0] != Math.rint(v[0])) {
                throw new IllegalArgumentException("AdamW: bad state entry '" + e.getKey() + "' (expected step.<parameter name> = one non-negative integer)");
            }
            paramSteps.put(name, (long) v[0]);
        }
        super.loadState(moments, stepCount);
        for (int i = 0; i < names.length; i++) {
            steps[i] = slots[EXP_AVG][i] == null && slots[EXP_AVG_SQ][i] == null ? 0 : paramSteps.getOrDefault(names[i], stepCount);
        }
    }
}
