package org.mambavision.training.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tensor;

/**
 * Exponential moving average of a model's state dict, like timm's ModelEmaV2: after each optimizer
 * step, ema = decay * ema + (1 - decay) * live for every entry.
 *
 * <p>Parameters (tensors that require a gradient) are always averaged. Buffers are averaged too by
 * default, as ModelEmaV2 does with BatchNorm running statistics; with {@code averageBuffers == false}
 * they are copied instead (ModelEmaV3 use_buffers=False). Integer counters ({@code *num_batches_tracked})
 * are always copied. The shadow tensors are this object's own copies; their names are the state-dict keys,
 * so {@link #shadow()} is what a checkpoint stores as the EMA state dict.
 */
public final class Ema {
    private final double decay;
    private final Map<String, Tensor> shadow;
    private final String[] keys;
    private final boolean[] averaged;

    public Ema(Map<String, Tensor> live, double decay) {
        this(live, decay, true);
    }

    public Ema(Map<String, Tensor> live, double decay, boolean averageBuffers) {
        if (!(decay >= 0 && decay <= 1)) throw new IllegalArgumentException("Ema: decay must be in [0, 1], got " + decay);
        this.decay = decay;
        LinkedHashMap<String, Tensor> copies = new LinkedHashMap<>();
        keys = live.keySet().toArray(new String[0]);
        averaged = new boolean[keys.length];
        for (int i = 0; i < keys.length; i++) {
            Tensor t = live.get(keys[i]);
            copies.put(keys[i], t.copy().name(keys[i]));
            averaged[i] = t.requiresGrad() || (averageBuffers && !keys[i].endsWith("num_batches_tracked"));
        }
        shadow = Collections.unmodifiableMap(copies);
    }

    public double decay() {
        return decay;
    }

    /** Folds the live values into the average (call after each optimizer step). */
    public void update(Map<String, Tensor> live) {
        Tensor[] src = matching(live, "update");
        List<float[]> emaArrays = new ArrayList<>(), liveArrays = new ArrayList<>();
        for (int i = 0; i < keys.length; i++) {
            float[] dst = shadow.get(keys[i]).data;
            if (averaged[i]) {
                emaArrays.add(dst);
                liveArrays.add(src[i].data);
            } else {
                System.arraycopy(src[i].data, 0, dst, 0, dst.length);
            }
        }
        int[] len = new int[emaArrays.size()];
        for (int k = 0; k < len.length; k++) len[k] = emaArrays.get(k).length;
        ParamChunks chunks = ParamChunks.of(len);
        float d = (float) decay, oneMinusD = (float) (1 - decay);
        Parallel.forEach(chunks.count(), c -> OptimKernels.ema(emaArrays.get(chunks.owner[c]), liveArrays.get(chunks.owner[c]),
                chunks.start[c], chunks.end[c], d, oneMinusD));
    }

    /** The averaged state dict (read-only map of this object's tensors). */
    public Map<String, Tensor> shadow() {
        return shadow;
    }

    /** Writes the averaged values into {@code target} (same keys and shapes), e.g. an evaluation copy of the model. */
    public void copyTo(Map<String, Tensor> target) {
        Tensor[] dst = matching(target, "copyTo");
        for (int i = 0; i < keys.length; i++) {
            float[] s = shadow.get(keys[i]).data;
            System.arraycopy(s, 0, dst[i].data, 0, s.length);
        }
    }

    /**
     * Exchanges the values of {@code live} and the average: call once to evaluate the live model with
     * EMA weights, and again to put the training weights back.
     */
    public void swap(Map<String, Tensor> live) {
        Tensor[] other = matching(live, "swap");
        for (int i = 0; i < keys.length; i++) {
            float[] a = shadow.get(keys[i]).data, b = other[i].data;
            for (int j = 0; j < a.length; j++) {
                float tmp = a[j];
                a[j] = b[j];
                b[j] = tmp;
            }
        }
    }

    /** Restores the average from a checkpoint's EMA state dict (same keys and shapes). */
    public void load(Map<String, Tensor> saved) {
        Tensor[] src = matching(saved, "load");
        for (int i = 0; i < keys.length; i++) {
            float[] d = shadow.get(keys[i]).data;
            System.arraycopy(src[i].data, 0, d, 0, d.length);
        }
    }

    /** The tensors of {@code m} in shadow order, checking that keys and shapes match exactly. */
    private Tensor[] matching(Map<String, Tensor> m, String op) {
        if (m.size() != keys.length) {
            throw new IllegalArgumentException("Ema." + op + ": " + m.size() + " entries, the average has " + keys.length);
        }
        Tensor[] out = new Tensor[keys.length];
        for (int i = 0; i < keys.length; i++) {
            Tensor t = m.get(keys[i]);
            if (t == null) throw new IllegalArgumentException("Ema." + op + ": missing entry '" + keys[i] + "'");
            Tensor s = shadow.get(keys[i]);
            if (!t.sameShape(s)) {
                throw new IllegalArgumentException("Ema." + op + ": '" + keys[i] + "' has shape " + t.shapeString() + " vs " + s.shapeString());
            }
            out[i] = t;
        }
        return out;
    }
}
