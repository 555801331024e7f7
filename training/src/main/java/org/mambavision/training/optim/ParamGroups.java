package org.mambavision.training.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.mambavision.engine.Tensor;

/**
 * Trainable parameters split into a weight-decay group and a no-decay group, in the order given.
 *
 * <p>No decay for tensors of rank 0 or 1 (norm weights, biases, layer-scale vectors) and for names
 * whose last dotted component is one of {@link #NO_DECAY_NAMES} (SSM {@code A_log} and {@code D},
 * layer scale {@code gamma}/{@code gamma_1}/{@code gamma_2}, {@code bias}), whatever their rank.
 * Tensors that do not require a gradient are left out of both groups (as timm does).
 *
 * <p>Each parameter also has a learning-rate multiplier, 1 unless set ({@link #withLayerDecay}).
 */
public final class ParamGroups {
    public static final Set<String> NO_DECAY_NAMES = Set.of("A_log", "D", "gamma", "gamma_1", "gamma_2", "bias");

    private final Map<String, Tensor> decay;
    private final Map<String, Tensor> noDecay;
    private final Map<String, Double> lrScales;

    private ParamGroups(Map<String, Tensor> decay, Map<String, Tensor> noDecay) {
        this(decay, noDecay, Map.of());
    }

    private ParamGroups(Map<String, Tensor> decay, Map<String, Tensor> noDecay, Map<String, Double> lrScales) {
        this.decay = Collections.unmodifiableMap(decay);
        this.noDecay = Collections.unmodifiableMap(noDecay);
        this.lrScales = Collections.unmodifiableMap(lrScales);
    }

    public static ParamGroups of(Map<String, Tensor> named) {
        LinkedHashMap<String, Tensor> decay = new LinkedHashMap<>(), noDecay = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            Tensor t = e.getValue();
            if (!t.requiresGrad()) continue;
            (isNoDecay(e.getKey(), t) ? noDecay : decay).put(e.getKey(), t);
        }
        return new ParamGroups(decay, noDecay);
    }

    /** Every parameter in one group: weight decay applies to all of them (plain torch usage). */
    public static ParamGroups allDecay(Map<String, Tensor> named) {
        LinkedHashMap<String, Tensor> decay = new LinkedHashMap<>();
        named.forEach((k, t) -> {
            if (t.requiresGrad()) decay.put(k, t);
        });
        return new ParamGroups(decay, new LinkedHashMap<>());
    }

    /** True when the parameter {@code name} of tensor {@code t} gets no weight decay. */
    public static boolean isNoDecay(String name, Tensor t) {
        if (t.rank() <= 1) return true;
        String last = name.substring(name.lastIndexOf('.') + 1);
        return NO_DECAY_NAMES.contains(last);
    }

    /** Parameters with weight decay, by name, in the given order. */
    public Map<String, Tensor> decay() {
        return decay;
    }

    /** Parameters without weight decay, by name, in the given order. */
    public Map<String, Tensor> noDecay() {
        return noDecay;
    }

    /**
     * The same groups with layer-wise learning-rate decay ({@link LayerDecay}); {@code decay} in (0, 1], 1 leaves every
     * multiplier at 1. Layer ids come from the names of the parameters in the groups.
     */
    public ParamGroups withLayerDecay(double decay) {
        java.util.List<String> names = new java.util.ArrayList<>(this.decay.keySet());
        names.addAll(noDecay.keySet());
        return new ParamGroups(new LinkedHashMap<>(this.decay), new LinkedHashMap<>(noDecay), LayerDecay.scales(names, decay));
    }

    /** Learning-rate multiplier of parameter {@code name} (1 unless layer decay set it). */
    public double lrScale(String name) {
        return lrScales.getOrDefault(name, 1.0);
    }

    /** Number of parameter tensors in both groups. */
    public int size() {
        return decay.size() + noDecay.size();
    }

    /** Number of scalar values in both groups. */
    public long numel() {
        long n = 0;
        for (Tensor t : decay.values()) n += t.numel();
        for (Tensor t : noDecay.values()) n += t.numel();
        return n;
    }

    @Override
    public String toString() {
        return "ParamGroups[decay=" + decay.size() + " tensors, noDecay=" + noDecay.size() + " tensors]";
    }
}
