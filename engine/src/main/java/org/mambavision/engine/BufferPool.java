package org.mambavision.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;

/**
 * Recycles tensor buffers between training steps (or inference batches), so that a steady loop
 * allocates nothing large and the garbage collector has nothing to sweep.
 *
 * <pre>
 * try (BufferPool.Scope step = BufferPool.open()) {
 *     Tensor loss = model.forward(x) ...;  loss.backward();  optimizer.step();
 *     float value = loss.item();               // read results inside the scope
 * }                                            // every buffer taken in the scope goes back to the pool
 * </pre>
 *
 * <p>While a scope is open on a thread, {@link Tensor#zeros}, {@link Tensor#empty} and the gradients of
 * such tensors take their arrays from this thread's pool (free lists by exact length, so the same step
 * shapes find the same buffers again). Closing the scope returns them all; a tensor made inside a scope
 * must not be used after it closes, unless {@link Scope#escape} handed its data to the garbage collector.
 * Parameters and anything made outside a scope are ordinary heap arrays and never recycled.
 * Intermediate gradients go back as soon as the tape has consumed them ({@link #release}).
 *
 * <p>A reused buffer taken through {@link Tensor#empty} holds stale values: only ops that overwrite
 * their whole output use it. {@link #poison} fills such buffers with NaN so tests catch an op that
 * does not. Small arrays (under {@link #MIN_FLOATS}) are not pooled: allocating them is cheap.
 */
public final class BufferPool {
    /** Arrays shorter than this are plain allocations. */
    static final int MIN_FLOATS = 4096;

    private static final ThreadLocal<BufferPool> POOL = ThreadLocal.withInitial(BufferPool::new);
    private static volatile boolean poison;

    private final HashMap<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    /** Lengths asked for since the outermost scope opened; others are dropped when it closes. */
    private final HashSet<Integer> requested = new HashSet<>();
    private final ArrayList<Scope> open = new ArrayList<>();
    private final Thread owner = Thread.currentThread();

    private BufferPool() {}

    /** Opens a scope on the current thread (scopes nest; close them in reverse order). */
    public static Scope open() {
        BufferPool pool = POOL.get();
        Scope s = new Scope(pool);
        pool.open.add(s);
        return s;
    }

    /**
     * Drops this thread's free buffers (for the garbage collector) when no scope is open on it: a
     * finished training run should not keep its last step's working set.
     */
    public static void trim() {
        BufferPool pool = POOL.get();
        if (pool.open.isEmpty()) {
            pool.free.clear();
            pool.requested.clear();
        }
    }

    /** Fills reused buffers handed out by {@link Tensor#empty} with NaN (for tests). */
    public static void poison(boolean on) {
        poison = on;
    }

    /** The innermost open scope of the current thread, or null. */
    static Scope current() {
        BufferPool pool = POOL.get();
        return pool.open.isEmpty() ? null : pool.open.get(pool.open.size() - 1);
    }

    /**
     * A scratch array of length n with unspecified contents, for an op's temporaries: from the current
     * scope when one is open (back to the pool when it closes, or earlier through {@link #release}).
     */
    public static float[] temporary(int n) {
        Scope s = n >= MIN_FLOATS ? current() : null;
        return s == null ? new float[n] : s.take(n, false);
    }

    /**
     * Returns {@code a} to the pool now if an open scope of this thread handed it out (the caller
     * guarantees nothing else refers to it); otherwise does nothing.
     */
    public static void release(float[] a) {
        if (a == null || a.length < MIN_FLOATS) return;
        BufferPool pool = POOL.get();
        for (int i = pool.open.size() - 1; i >= 0; i--) {
            if (pool.open.get(i).taken.remove(a) != null) {
                pool.free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
                return;
            }
        }
    }

    /** One scope: the buffers it handed out return to the pool when it closes. */
    public static final class Scope implements AutoCloseable {
        private final BufferPool pool;
        private final IdentityHashMap<float[], Boolean> taken = new IdentityHashMap<>();
        private boolean closed;

        private Scope(BufferPool pool) {
            this.pool = pool;
        }

        /** True when this scope can hand out a buffer to the calling thread. */
        boolean usable() {
            return !closed && Thread.currentThread() == pool.owner;
        }

        /** An array of length n: reused when one is free (zeroed if asked; stale or NaN otherwise). */
        float[] take(int n, boolean zero) {
            if (n < MIN_FLOATS || !usable()) return new float[n];
            pool.requested.add(n);
            ArrayDeque<float[]> q = pool.free.get(n);
            float[] a = q == null ? null : q.poll();
            if (a == null) {
                a = new float[n];
            } else if (zero) {
                float[] z = a; // in parallel: a gradient buffer is tens of MB, and the other threads would wait
                Parallel.forRange(n, 1 << 16, (s, e) -> Arrays.fill(z, s, e, 0f));
            } else if (poison) {
                Arrays.fill(a, Float.NaN);
            }
            taken.put(a, Boolean.TRUE);
            return a;
        }

        /** Hands {@code t}'s data to the garbage collector: it stays valid after this scope closes. */
        public Tensor escape(Tensor t) {
            taken.remove(t.data);
            if (t.grad != null) taken.remove(t.grad);
            return t;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            pool.open.remove(this);
            for (float[] a : taken.keySet()) pool.free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
            taken.clear();
            if (pool.open.isEmpty()) {
                // Lengths the last loop did not ask for (another batch shape) would only hold memory.
                pool.free.keySet().retainAll(pool.requested);
                pool.requested.clear();
            }
        }
    }
}
