package org.mambavision.models.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import org.mambavision.engine.Tensor;

/**
 * A layer with named parameters, buffers and children, in the PyTorch naming scheme, so that
 * {@link #stateDict()} keys are the official ones ({@code levels.2.blocks.0.mixer.A_log}).
 */
public abstract class Module {
    private final LinkedHashMap<String, Tensor> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private String path = "";

    /** Registers a trainable parameter (marked requiresGrad). */
    protected final Tensor param(String name, Tensor t) {
        params.put(name, t.requiresGrad(true).name(name));
        return t;
    }

    /** Registers a non-trainable state tensor (BatchNorm running statistics, counters). */
    protected final Tensor buffer(String name, Tensor t) {
        buffers.put(name, t.name(name));
        return t;
    }

    protected final <M extends Module> M child(String name, M m) {
        children.put(name, m);
        return m;
    }

    /** Dotted path from the root, as assigned by {@link #assignPaths} (empty for the root). */
    public final String path() {
        return path;
    }

    final void assignPaths(String p) {
        path = p;
        children.forEach((k, m) -> m.assignPaths(p.isEmpty() ? k : p + "." + k));
    }

    /** Reports this layer's output to an active {@link Profiler} (summary tables); returns {@code out}. */
    protected final Tensor traced(Tensor out) {
        Profiler.layer(this, out);
        return out;
    }

    public final Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** Parameters by dotted name, in registration order (own first, then children). */
    public final Map<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, false);
        return out;
    }

    public final Map<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false, true);
        return out;
    }

    /** Parameters and buffers by dotted name: the live tensors, not copies. */
    public final Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, true);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean p, boolean b) {
        // Same order as PyTorch: own parameters, own buffers, then children.
        if (p) params.forEach((k, v) -> out.put(prefix + k, v));
        if (b) buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(prefix + k + ".", out, p, b));
    }

    public final long numParams() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    /** Train mode (batch statistics, drop path active) or eval mode, recursively. Train mode unfreezes. */
    public void train(boolean on) {
        training = on;
        if (on) frozen(false);
        for (Module m : children.values()) m.train(on);
    }

    /**
     * Eval mode with the weights prepared once for inference (linear layers keep their weights packed in
     * the GEMM's layout: at batch 1 re-packing them at every call costs as much as the products; convolutions
     * keep their BatchNorm folded in, and what their paths derive from the folded weight). The
     * results are the same bits. The weights must not change while frozen: {@link #train(boolean) train(true)},
     * {@link #unfreeze()} or loading weights through {@code Weights.load} ends it.
     */
    public void freezeForInference() {
        train(false);
        forEachModule(m -> m.frozen(true));
    }

    /** Drops what {@link #freezeForInference()} prepared (the mode stays as it is). */
    public void unfreeze() {
        forEachModule(m -> m.frozen(false));
    }

    /** Hook for layers that prepare weights for inference; nothing by default. */
    protected void frozen(boolean on) {}

    private void forEachModule(java.util.function.Consumer<Module> f) {
        f.accept(this);
        for (Module m : children.values()) m.forEachModule(f);
    }

    public final boolean training() {
        return training;
    }

    public final void zeroGrad() {
        for (Tensor t : namedParameters().values()) t.dropGrad();
    }
}
