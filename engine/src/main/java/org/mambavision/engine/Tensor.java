package org.mambavision.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A dense float32 tensor: row-major, contiguous, rank 0 to 5.
 *
 * <p>{@code reshape} and {@code view} share {@link #data} with the source; everything else copies.
 * The gradient buffer is allocated on first use and has the same layout as the data.
 * Ops live in {@code org.mambavision.engine.ops}; each records its backward on the {@link Tape}.
 */
public final class Tensor {
    public static final int MAX_RANK = 5;

    private final int[] shape;
    /** Row-major values; length == numel. Shared by reshape views. */
    public final float[] data;
    /** Gradient, same layout as data; null until something accumulates into it. */
    public float[] grad;
    /**
     * The buffer of a gradient dropped by {@link #dropGrad}, reused by the next one: a parameter's gradient is
     * dropped at every step, and allocating it afresh (MambaVision-T: 127 MB a step) cost JVM zeroing on the
     * calling thread, page faults and garbage collections.
     */
    private float[] spareGrad;
    private boolean requiresGrad;
    private String name;
    /** The pool scope that handed out {@link #data} (null: a heap array); gradients come from it too. */
    private final BufferPool.Scope scope;

    private Tensor(float[] data, int[] shape, BufferPool.Scope scope) {
        this.shape = shape;
        this.data = data;
        this.scope = scope;
    }

    private Tensor(float[] data, int[] shape) {
        this(data, shape, null);
    }

    // ---- construction --------------------------------------------------------------------

    public static Tensor zeros(int... shape) {
        return allocate(true, shape);
    }

    /**
     * A tensor whose values are unspecified: for ops that overwrite every element. Outside a
     * {@link BufferPool} scope it is zero-filled like {@link #zeros}; inside one it may be a reused buffer.
     */
    public static Tensor empty(int... shape) {
        return allocate(false, shape);
    }

    private static Tensor allocate(boolean zero, int[] shape) {
        int[] s = checkShape(shape);
        int n = numel(s);
        BufferPool.Scope scope = n >= BufferPool.MIN_FLOATS ? BufferPool.current() : null;
        if (scope == null) return new Tensor(new float[n], s);
        return new Tensor(scope.take(n, zero), s, scope);
    }

    /** Wraps {@code data} (no copy). */
    public static Tensor of(float[] data, int... shape) {
        int[] s = checkShape(shape);
        if (data.length != numel(s)) {
            throw new IllegalArgumentException("Tensor.of: data length " + data.length + " does not match shape " + Arrays.toString(s));
        }
        return new Tensor(data, s);
    }

    public static Tensor scalar(float v) {
        return new Tensor(new float[] {v}, new int[0]);
    }

    public static Tensor full(float v, int... shape) {
        Tensor t = zeros(shape);
        Arrays.fill(t.data, v);
        return t;
    }

    /** Standard normal values scaled by {@code std}, deterministic in the generator. */
    public static Tensor randn(SplittableRandom rng, float std, int... shape) {
        Tensor t = zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) (gaussian(rng) * std);
        return t;
    }

    /** Uniform values in [lo, hi). */
    public static Tensor uniform(SplittableRandom rng, float lo, float hi, int... shape) {
        Tensor t = zeros(shape);
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return t;
    }

    public static double gaussian(SplittableRandom rng) {
        // Box-Muller; one value per call keeps the stream simple and reproducible.
        double u1 = rng.nextDouble(), u2 = rng.nextDouble();
        if (u1 < 1e-300) u1 = 1e-300;
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    // ---- shape ---------------------------------------------------------------------------

    public int rank() { return shape.length; }

    public int[] shape() { return shape.clone(); }

    /** Size of dimension {@code i}; negative counts from the end. */
    public int dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public int numel() { return data.length; }

    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
        return (int) n;
    }

    public boolean sameShape(Tensor o) { return Arrays.equals(shape, o.shape); }

    public String shapeString() { return Arrays.toString(shape); }

    private static int[] checkShape(int[] shape) {
        if (shape.length > MAX_RANK) throw new IllegalArgumentException("rank " + shape.length + " > " + MAX_RANK + ": " + Arrays.toString(shape));
        for (int d : shape) if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        return shape.clone();
    }

    /**
     * A view with another shape over the same data (one dimension may be -1).
     * The gradient flows back through the tape.
     */
    public Tensor reshape(int... newShape) {
        int[] s = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: more than one -1 in " + Arrays.toString(newShape));
                infer = i;
            } else known *= s[i];
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) throw new IllegalArgumentException("reshape: cannot reshape " + shapeString() + " to " + Arrays.toString(newShape));
            s[infer] = numel() / known;
        }
        s = checkShape(s);
        if (numel(s) != numel()) throw new IllegalArgumentException("reshape: cannot reshape " + shapeString() + " to " + Arrays.toString(newShape));
        Tensor out = new Tensor(data, s, scope);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(this)) tr.bind(out, tr.reshape(this, s));
        Tape.record(out, () -> {
            float[] g = out.grad, gi = gradBuffer();
            for (int i = 0; i < g.length; i++) gi[i] += g[i];
        }, this);
        return out;
    }

    /** A copy with its own data, outside the tape. */
    public Tensor copy() {
        Tensor t = new Tensor(data.clone(), shape);
        t.name = name;
        return t;
    }

    /** The same data, cut off from the tape (no gradient flows through). */
    public Tensor detach() {
        Tensor out = new Tensor(data, shape, scope);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(this)) tr.bind(out, tr.name(this));
        return out;
    }

    // ---- autograd ------------------------------------------------------------------------

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf (parameter) as needing a gradient. */
    public Tensor requiresGrad(boolean r) {
        this.requiresGrad = r;
        return this;
    }

    /** The gradient buffer, allocated (zeroed) on first use. */
    public float[] gradBuffer() {
        if (grad == null) grad = newGrad(true);
        return grad;
    }

    /**
     * For backward kernels that can assign instead of accumulate: when no gradient exists yet,
     * allocates one with unspecified contents that the caller must overwrite entirely, and returns
     * true; returns false (and allocates nothing) when there is a gradient to accumulate into.
     */
    public boolean allocateGradForOverwrite() {
        if (grad != null) return false;
        grad = newGrad(false);
        return true;
    }

    private float[] newGrad(boolean zero) {
        if (scope != null && scope.usable()) return scope.take(data.length, zero);
        float[] g = spareGrad;
        if (g == null) return new float[data.length];
        spareGrad = null;
        if (zero) Parallel.forRange(g.length, 1 << 16, (s, e) -> Arrays.fill(g, s, e, 0f));
        return g;
    }

    /**
     * Drops the gradient (PyTorch's {@code zero_grad(set_to_none=True)}: null until something accumulates again),
     * keeping a heap buffer for that next gradient. Nothing may hold on to the dropped array.
     */
    public void dropGrad() {
        if (grad != null && scope == null && grad.length == data.length) spareGrad = grad;
        grad = null;
    }

    public void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0f);
    }

    /** Backpropagates from this scalar through the current thread's tape, then clears the tape. */
    public void backward() {
        Tape.backward(this);
    }

    // ---- misc ----------------------------------------------------------------------------

    public String name() { return name; }

    public Tensor name(String n) {
        this.name = n;
        return this;
    }

    public float item() {
        if (data.length != 1) throw new IllegalArgumentException("item: tensor has " + data.length + " elements, shape " + shapeString());
        return data[0];
    }

    /** Flat index of a multi-index. */
    public int index(int... idx) {
        if (idx.length != shape.length) throw new IllegalArgumentException("index rank " + idx.length + " != tensor rank " + shape.length);
        int off = 0;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of " + shapeString());
            off = off * shape[i] + idx[i];
        }
        return off;
    }

    public float get(int... idx) { return data[index(idx)]; }

    public void set(float v, int... idx) { data[index(idx)] = v; }

    @Override
    public String toString() {
        return "Tensor" + shapeString() + (name != null ? " " + name : "") + (requiresGrad ? " (grad)" : "");
    }
}
