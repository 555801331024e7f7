package org.mambavision.engine;

import java.util.ArrayList;

/**
 * Reverse-mode autograd as a per-thread tape.
 *
 * <p>Each op appends a node (its output and a closure that reads {@code out.grad} and accumulates
 * into its inputs' gradients). Recording order is a topological order, so {@link #backward} simply
 * replays the tape in reverse. Closures hold the saved activations; clearing the tape frees them.
 * Each thread has its own tape and its own grad mode, so inference can run on many threads at once.
 */
public final class Tape {
    private record Node(Tensor out, Runnable backward) {}

    private static final class State {
        ArrayList<Node> nodes = new ArrayList<>();
        int noGradDepth;
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    private Tape() {}

    /** True when ops should record their backward on this thread. */
    public static boolean gradEnabled() {
        return STATE.get().noGradDepth == 0;
    }

    /** True when an op on these inputs must record a backward. */
    public static boolean needsGrad(Tensor... inputs) {
        if (!gradEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /**
     * Records {@code backward} for {@code out} if any input requires a gradient (and grad mode is on).
     * The closure runs only when {@code out.grad} is non-null; it must accumulate (+=) into the
     * inputs' {@link Tensor#gradBuffer()}, and only for inputs that {@link Tensor#requiresGrad()}.
     */
    public static void record(Tensor out, Runnable backward, Tensor... inputs) {
        if (!needsGrad(inputs)) return;
        out.requiresGrad(true);
        STATE.get().nodes.add(new Node(out, backward));
    }

    /** Sum of the recorded outputs' sizes in floats: a lower bound on the activation memory the tape holds. */
    public static long recordedFloats() {
        long n = 0;
        for (Node node : STATE.get().nodes) n += node.out.numel();
        return n;
    }

    /** Number of recorded nodes on this thread (for tests and memory checks). */
    public static int size() {
        return STATE.get().nodes.size();
    }

    /** Seeds d(loss)/d(loss) = 1 and replays this thread's tape in reverse, then clears it. */
    public static void backward(Tensor loss) {
        if (loss.numel() != 1) throw new IllegalArgumentException("backward: loss must be a scalar, got shape " + loss.shapeString());
        backward(loss, new float[] {1f});
    }

    /** Replays the tape in reverse from {@code out} with upstream gradient {@code gradOut}, then clears it. */
    public static void backward(Tensor out, float[] gradOut) {
        if (gradOut.length != out.numel()) throw new IllegalArgumentException("backward: upstream gradient has " + gradOut.length + " values for shape " + out.shapeString());
        if (!out.requiresGrad()) throw new IllegalStateException("backward: the output does not depend on any tensor that requires a gradient");
        float[] g = out.gradBuffer();
        for (int i = 0; i < g.length; i++) g[i] += gradOut[i];
        ArrayList<Node> nodes = STATE.get().nodes;
        try {
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node n = nodes.get(i);
                if (n.out.grad != null) n.backward.run();
                // Intermediate gradients are dead once consumed: back to the pool (if pooled), then free.
                BufferPool.release(n.out.grad);
                n.out.grad = null;
                nodes.set(i, null);
            }
        } finally {
            nodes.clear();
        }
    }

    /** Drops everything recorded on this thread (e.g. after an evaluation pass that recorded). */
    public static void clear() {
        STATE.get().nodes.clear();
    }

    /**
     * Gradient checkpointing: runs {@code f(x)} without recording, and records one node whose backward
     * recomputes {@code f} with a fresh tape and backpropagates through it. Activations inside {@code f}
     * live only during that recomputation. {@code f} must be deterministic (same randomness on recompute)
     * and free of side effects such as BatchNorm running-stat updates.
     */
    public static Tensor checkpoint(java.util.function.UnaryOperator<Tensor> f, Tensor x) {
        if (!gradEnabled()) return f.apply(x);
        Tensor out;
        // A scope of its own, so that the activations inside f are recycled now rather than at step end.
        try (var g = noGrad(); var inner = BufferPool.open()) {
            out = inner.escape(f.apply(x));
        }
        Tensor result = out.detach();
        State s = STATE.get();
        result.requiresGrad(true);
        s.nodes.add(new Node(result, () -> {
            ArrayList<Node> outer = s.nodes;
            s.nodes = new ArrayList<>();
            try (var inner = BufferPool.open()) {
                Tensor xi = x.detach().requiresGrad(x.requiresGrad());
                Tensor y = f.apply(xi);
                if (y.requiresGrad()) backward(y, result.grad);
                if (x.requiresGrad() && xi.grad != null) {
                    float[] gx = x.gradBuffer(), gi = xi.grad;
                    for (int i = 0; i < gi.length; i++) gx[i] += gi[i];
                    BufferPool.release(gi);
                }
            } finally {
                s.nodes = outer;
            }
        }));
        return result;
    }

    /** A scope in which nothing is recorded: {@code try (var g = Tape.noGrad()) { ... }}. */
    public static Scope noGrad() {
        State s = STATE.get();
        s.noGradDepth++;
        return () -> s.noGradDepth--;
    }

    /** A scope that restores grad mode on close; no checked exception. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
