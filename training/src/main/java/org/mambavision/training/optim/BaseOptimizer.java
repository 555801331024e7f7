package org.mambavision.training.optim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.Tensor;

/**
 * Shared bookkeeping: the parameter list (decay group first, then no-decay group, like torch's
 * param_groups), the lazily allocated per-parameter state slots, and checkpoint state.
 */
abstract class BaseOptimizer implements Optimizer {
    final String[] names;
    final Tensor[] tensors;
    /** Weight decay of each parameter: the group's value, 0 for the no-decay group. */
    final double[] weightDecay;
    /** Learning-rate multiplier of each parameter (layer-wise decay; 1 by default): parameter i steps with lr * lrScale[i]. */
    final double[] lrScale;
    private final String[] slotNames;
    /** slots[s][i]: state slot s of parameter i, null until the parameter first gets a gradient. */
    final float[][][] slots;
    long stepCount;

    BaseOptimizer(ParamGroups groups, double weightDecay, String... slotNames) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": weight decay must be finite and >= 0, got " + weightDecay);
        }
        int n = groups.size();
        names = new String[n];
        tensors = new Tensor[n];
        this.weightDecay = new double[n];
        this.lrScale = new double[n];
        int i = 0;
        for (Map.Entry<String, Tensor> e : groups.decay().entrySet()) {
            names[i] = e.getKey();
            tensors[i] = e.getValue();
            this.weightDecay[i++] = weightDecay;
        }
        for (Map.Entry<String, Tensor> e : groups.noDecay().entrySet()) {
            names[i] = e.getKey();
            tensors[i++] = e.getValue();
        }
        for (int k = 0; k < n; k++) lrScale[k] = groups.lrScale(names[k]);
        this.slotNames = slotNames.clone();
        slots = new float[slotNames.length][n][];
    }

    @Override
    public final void step(float lr) {
        if (!(lr >= 0) || Float.isInfinite(lr)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got " + lr);
        }
        List<Integer> active = new ArrayList<>();
        for (int i = 0; i < tensors.length; i++) {
            float[] g = tensors[i].grad;
            if (g == null) continue;
            if (g.length != tensors[i].numel()) {
                throw new IllegalStateException(getClass().getSimpleName() + ": gradient of " + names[i] + " has " + g.length
                        + " values, parameter " + tensors[i].shapeString() + " has " + tensors[i].numel());
            }
            active.add(i);
        }
        stepCount++;
        int[] idx = active.stream().mapToInt(Integer::intValue).toArray();
        update(lr, idx, ParamChunks.of(lengths(idx)));
    }

    /** Updates the parameters {@code active} (indices with a gradient); chunk c covers {@code active[chunks.owner[c]]}. */
    abstract void update(float lr, int[] active, ParamChunks chunks);

    private int[] lengths(int[] idx) {
        int[] len = new int[idx.length];
        for (int k = 0; k < idx.length; k++) len[k] = tensors[idx[k]].numel();
        return len;
    }

    /** Slot s of parameter i, allocated zero-filled on first use. */
    final float[] slot(int s, int i) {
        if (slots[s][i] == null) slots[s][i] = new float[tensors[i].numel()];
        return slots[s][i];
    }

    @Override
    public final void zeroGrad() {
        for (Tensor t : tensors) t.dropGrad();
    }

    @Override
    public long stepCount() {
        return stepCount;
    }

    @Override
    public Map<String, float[]> state() {
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        for (int s = 0; s < slotNames.length; s++) {
            for (int i = 0; i < names.length; i++) {
                if (slots[s][i] != null) out.put(slotNames[s] + "." + names[i], slots[s][i].clone());
            }
        }
        return out;
    }

    @Override
    public void loadState(Map<String, float[]> state, long stepCount) {
        if (stepCount < 0) throw new IllegalArgumentException(getClass().getSimpleName() + ": negative step count " + stepCount);
        float[][][] loaded = new float[slotNames.length][names.length][];
        Map<String, Integer> byName = indexByName();
        for (Map.Entry<String, float[]> e : state.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            int s = dot < 0 ? -1 : java.util.Arrays.asList(slotNames).indexOf(key.substring(0, dot));
            Integer i = dot < 0 ? null : byName.get(key.substring(dot + 1));
            if (s < 0 || i == null) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": unknown state entry '" + key
                        + "' (expected <" + String.join("|", slotNames) + ">.<parameter name>)");
            }
            float[] v = e.getValue();
            if (v == null || v.length != tensors[i].numel()) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": state entry '" + key + "' has "
                        + (v == null ? "no" : v.length) + " values, parameter " + tensors[i].shapeString() + " has " + tensors[i].numel());
            }
            loaded[s][i] = v.clone();
        }
        for (int s = 0; s < slotNames.length; s++) System.arraycopy(loaded[s], 0, slots[s], 0, names.length);
        this.stepCount = stepCount;
    }

    final Map<String, Integer> indexByName() {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < names.length; i++) m.put(names[i], i);
        return m;
    }

    static void checkBeta(String opt, String what, double b) {
        if (!(b >= 0 && b < 1)) throw new IllegalArgumentException(opt + ": " + what + " must be in [0, 1), got " + b);
    }

    static void checkEps(String opt, double eps) {
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException(opt + ": eps must be finite and >= 0, got " + eps);
    }
}
