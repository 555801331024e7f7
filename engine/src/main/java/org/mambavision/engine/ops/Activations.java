package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.CompiledAlone;
import org.mambavision.engine.kernels.VecMath;

/**
 * Elementwise activations with PyTorch float32 semantics. Each function is a pair of vector
 * kernels (forward, backward) over whole vectors; one engine does the threading, the tail and the tape.
 *
 * <p><b>Why this shape.</b> C2 keeps {@code FloatVector} values in registers only when every method
 * that passes or returns one is inlined; a vector that crosses a call that was not inlined is boxed
 * and the Vector API falls back to per-lane Java code (10-50x slower). So each function has its own
 * small loop, whose value/derivative helpers stay far below C2's inlining limits, and the engine
 * picks the loop through a {@link Forward}/{@link Backward} reference outside any loop: that call
 * passes only arrays. The tail of a range (less than a vector) runs the same loop on a zero-padded
 * vector, so a value gives the same bits wherever it sits.
 */
public final class Activations {
    static { org.mambavision.engine.kernels.JitInlining.install(); } // vector helpers inlined by C2, see there
    private static final VectorSpecies<Float> S = VecMath.S;
    private static final int V = S.length();
    /** Elements per task; below this a tensor stays on the calling thread. */
    private static final int GRAIN = 16384;
    /** Block of a fresh gradient zeroed right before the kernel adds into it (stays in L1). */
    private static final int ZERO_BLOCK = 2048;

    private static final float SQRT1_2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;
    /** sqrt(2 / pi) and the cubic coefficient of PyTorch's tanh approximation. */
    private static final float TANH_BETA = 0.79788456080286536f;
    private static final float TANH_KAPPA = 0.044715f;

    private Activations() {}

    /** y[i] = f(x[i]) for i in [s, e), e - s a multiple of the vector length. */
    @FunctionalInterface
    private interface Forward {
        void run(float[] x, float[] y, int s, int e);
    }

    /** gx[i] += g[i] * f'(x[i]) (y = f(x) given) for i in [s, e), e - s a multiple of the vector length. */
    @FunctionalInterface
    private interface Backward {
        void run(float[] x, float[] y, float[] g, float[] gx, int s, int e);
    }

    /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
    public static Tensor gelu(Tensor x) {
        if (x != null && Tape.needsGrad(x)) return geluSavingCdf(x);
        return unary("gelu", Activations::geluForward, Activations::geluBackward, x);
    }

    /** GELU with PyTorch's approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static Tensor geluTanh(Tensor x) {
        return unary("geluTanh", Activations::geluTanhForward, Activations::geluTanhBackward, x);
    }

    /** x * sigmoid(x). */
    public static Tensor silu(Tensor x) { return unary("silu", Activations::siluForward, Activations::siluBackward, x); }

    public static Tensor relu(Tensor x) { return unary("relu", Activations::reluForward, Activations::reluBackward, x); }

    /** PyTorch softplus with beta 1, threshold 20: x > 20 ? x : log1p(exp(x)). */
    public static Tensor softplus(Tensor x) {
        return unary("softplus", Activations::softplusForward, Activations::softplusBackward, x);
    }

    public static Tensor exp(Tensor x) { return unary("exp", Activations::expForward, Activations::expBackward, x); }

    /**
     * The activations a layer may apply to its own output in inference (a GEMM epilogue, a convolution's
     * copy-out), in place and without a tape: the same bits as the ops above.
     */
    public enum Function {
        RELU(Activations::reluForward), GELU(Activations::geluForward), GELU_TANH(Activations::geluTanhForward);

        private final Forward kernel;

        Function(Forward kernel) {
            this.kernel = kernel;
        }

        /** a[s..e) = f(a[s..e)) on the calling thread. */
        public void applyInPlace(float[] a, int s, int e) {
            forwardRange(kernel, a, a, s, e);
        }

        /** The ONNX nodes of this activation on value x (see {@link Activations#emit}); returns the output's name. */
        public String emit(OpTrace tr, Object x) {
            return Activations.emit(tr, switch (this) {
                case RELU -> "relu";
                case GELU -> "gelu";
                case GELU_TANH -> "geluTanh";
            }, x);
        }

        /** The op with a tape: {@code Activations.relu(x)}, ... */
        public Tensor apply(Tensor x) {
            return switch (this) {
                case RELU -> relu(x);
                case GELU -> gelu(x);
                case GELU_TANH -> geluTanh(x);
            };
        }
    }

    // ---- the engine ----------------------------------------------------------------------

    private static Tensor unary(String op, Forward fwd, Backward bwd, Tensor x) {
        if (x == null) throw new IllegalArgumentException(op + ": input is null");
        Tensor out = Tensor.empty(x.shape());
        float[] xd = x.data, yd = out.data;
        int n = xd.length;
        Parallel.forRange(n, GRAIN, (s, e) -> forwardRange(fwd, xd, yd, s, e));
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.bind(out, emit(tr, op, x));
        Tape.record(out, () -> backwardBlocks(bwd, x, yd, out.grad), x);
        return out;
    }

    /**
     * The ONNX nodes of activation {@code op} ("gelu", "geluTanh", "silu", "relu", "softplus", "exp") on value x;
     * returns the output's name. GELU is written with Erf, its tanh form with Tanh, as the formulas above.
     */
    static String emit(OpTrace tr, String op, Object x) {
        return switch (op) {
            // x / sqrt(2) as a Div: the form ONNX Runtime's GELU fusion recognises (one Gelu kernel instead of five)
            case "gelu" -> tr.tmp("Mul", tr.tmp("Mul", x, tr.tmp("Add", tr.tmp("Erf", tr.tmp("Div", x, tr.scalar((float) Math.sqrt(2)))), tr.scalar(1f))),
                    tr.scalar(0.5f));
            case "geluTanh" -> {
                String cube = tr.tmp("Mul", tr.tmp("Mul", x, x), x);
                String inner = tr.tmp("Mul", tr.tmp("Add", x, tr.tmp("Mul", cube, tr.scalar(TANH_KAPPA))), tr.scalar(TANH_BETA));
                yield tr.tmp("Mul", tr.tmp("Mul", x, tr.tmp("Add", tr.tmp("Tanh", inner), tr.scalar(1f))), tr.scalar(0.5f));
            }
            case "silu" -> tr.tmp("Mul", x, tr.tmp("Sigmoid", x));
            case "relu" -> tr.tmp("Relu", x);
            case "softplus" -> tr.tmp("Softplus", x);
            case "exp" -> tr.tmp("Exp", x);
            default -> throw new IllegalStateException("no ONNX form for activation " + op);
        };
    }

    /** gx += g f'(x) over the whole tensor, in parallel ranges; {@code y} is what the backward kernel reads as y. */
    private static void backwardBlocks(Backward bwd, Tensor x, float[] y, float[] g) {
        // A fresh gradient is zeroed block by block just before use (in cache), not in a pass of its own.
        boolean fresh = x.allocateGradForOverwrite();
        float[] xd = x.data, gx = x.grad;
        Parallel.forRange(xd.length, GRAIN, (s, e) -> {
            for (int b0 = s; b0 < e; b0 += ZERO_BLOCK) {
                int b1 = Math.min(e, b0 + ZERO_BLOCK);
                if (fresh) java.util.Arrays.fill(gx, b0, b1, 0f);
                backwardRange(bwd, xd, y, g, gx, b0, b1);
            }
        });
    }

    private static void forwardRange(Forward k, float[] x, float[] y, int s, int e) {
        int full = s + S.loopBound(e - s);
        k.run(x, y, s, full);
        if (full == e) return;
        int t = e - full;
        float[] px = new float[V], py = new float[V];
        System.arraycopy(x, full, px, 0, t);
        k.run(px, py, 0, V);
        System.arraycopy(py, 0, y, full, t);
    }

    private static void backwardRange(Backward k, float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        int full = s + S.loopBound(e - s);
        k.run(x, y, g, gx, s, full);
        if (full == e) return;
        int t = e - full;
        float[] px = new float[V], py = new float[V], pg = new float[V], pgx = new float[V];
        System.arraycopy(x, full, px, 0, t);
        System.arraycopy(y, full, py, 0, t);
        System.arraycopy(g, full, pg, 0, t);
        System.arraycopy(gx, full, pgx, 0, t);
        k.run(px, py, pg, pgx, 0, V);
        System.arraycopy(pgx, 0, gx, full, t);
    }

    private static FloatVector load(float[] a, int i) { return FloatVector.fromArray(S, a, i); }

    /** gx[i..] += d * g[i..]. */
    private static void accumulate(FloatVector d, float[] g, float[] gx, int i) {
        d.fma(load(g, i), load(gx, i)).intoArray(gx, i);
    }

    // ---- the loops: one per function and direction ---------------------------------------

    private static void geluForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) gelu(load(x, i)).intoArray(y, i);
    }

    /** Elements per block of a two-pass backward (its scratch stays in L1). */
    private static final int BLOCK = 1024;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[BLOCK]);

    /** First pass of a two-pass backward: t[i - s] = some transcendental function of x[i]. */
    private interface Transcendental {
        void run(float[] x, float[] t, int s, int e);
    }

    /** Second pass: gx[i] += g[i] * f'(x[i]), given t[i - tOff] from the first pass. */
    private interface FromScratch {
        void run(float[] x, float[] t, int tOff, float[] g, float[] gx, int s, int e);
    }

    /**
     * A backward in two passes per block, the transcendental part into a scratch, then the derivative from
     * it: erf or tanh (each with an exp inside) and the rest in one loop are more than C2 inlines into one
     * compilation (NodeCountInliningCutoff), and a helper left out boxes every vector it passes (the
     * tanh-GELU and SiLU backwards allocated in steady state). The passes are {@link CompiledAlone}: never
     * inlined here (C2 did, following the type profile, and boxed erf's vectors), each compiles on its own
     * and passes only arrays.
     */
    private static void twoPasses(Transcendental first, FromScratch second, float[] x, float[] g, float[] gx, int s, int e) {
        float[] t = SCRATCH.get();
        for (int b = s; b < e; b += BLOCK) {
            int be = Math.min(e, b + BLOCK);
            first.run(x, t, b, be);
            second.run(x, t, b, g, gx, b, be);
        }
    }

    private static void geluBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        twoPasses(Activations::geluCdf, Activations::geluBackwardFromCdf, x, g, gx, s, e);
    }

    /** cdf[i - s] = Phi(x[i]). */
    @CompiledAlone
    private static void geluCdf(float[] x, float[] cdf, int s, int e) {
        for (int i = s; i < e; i += V) VecMath.onePlusErf(load(x, i).mul(SQRT1_2)).mul(0.5f).intoArray(cdf, i - s);
    }

    /** gx += g (Phi(x) + x phi(x)), Phi(x) read from cdf[i - cOff]. */
    @CompiledAlone
    private static void geluBackwardFromCdf(float[] x, float[] cdf, int cOff, float[] g, float[] gx, int s, int e) {
        for (int i = s; i < e; i += V) {
            FloatVector xv = load(x, i);
            FloatVector pdf = VecMath.exp(xv.mul(xv).mul(-0.5f)).mul(INV_SQRT_2PI);
            accumulate(xv.fma(pdf, load(cdf, i - cOff)), g, gx, i);
        }
    }

    /**
     * GELU with a tape: the forward also stores Phi(x) (the erf it computes anyway), so the backward needs
     * only phi(x) (an exp) instead of erf again; one more float per element kept until the backward. The
     * same bits as {@link #geluForward} and {@link #geluBackward}.
     */
    private static Tensor geluSavingCdf(Tensor x) {
        Tensor out = Tensor.empty(x.shape()), cdf = Tensor.empty(x.shape());
        float[] xd = x.data, yd = out.data, cd = cdf.data;
        int n = xd.length;
        Parallel.forRange(n, GRAIN, (s, e) -> {
            int full = s + S.loopBound(e - s);
            geluForwardSavingCdf(xd, yd, cd, s, full);
            if (full == e) return;
            int t = e - full;
            float[] px = new float[V], py = new float[V], pc = new float[V];
            System.arraycopy(xd, full, px, 0, t);
            geluForwardSavingCdf(px, py, pc, 0, V);
            System.arraycopy(py, 0, yd, full, t);
            System.arraycopy(pc, 0, cd, full, t);
        });
        Tape.record(out, () -> {
            // the backward kernel's y is Phi(x) here
            backwardBlocks((xs, c, g, gx, s, e) -> geluBackwardFromCdf(xs, c, 0, g, gx, s, e), x, cd, out.grad);
            BufferPool.release(cd);
        }, x);
        return out;
    }

    /** y = GELU(x) and cdf = Phi(x), each rounded as geluForward and geluCdf round them. */
    private static void geluForwardSavingCdf(float[] x, float[] y, float[] cdf, int s, int e) {
        for (int i = s; i < e; i += V) {
            FloatVector xv = load(x, i), onePlusErf = VecMath.onePlusErf(xv.mul(SQRT1_2));
            xv.mul(0.5f).mul(onePlusErf).intoArray(y, i);
            onePlusErf.mul(0.5f).intoArray(cdf, i);
        }
    }

    private static void geluTanhForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) geluTanh(load(x, i)).intoArray(y, i);
    }

    private static void geluTanhBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        twoPasses(Activations::tanhOfInner, Activations::geluTanhBackwardFromTanh, x, g, gx, s, e);
    }

    /** t[i - s] = tanh(sqrt(2/pi) (x + 0.044715 x^3)). */
    @CompiledAlone
    private static void tanhOfInner(float[] x, float[] t, int s, int e) {
        for (int i = s; i < e; i += V) VecMath.tanh(tanhInner(load(x, i))).intoArray(t, i - s);
    }

    @CompiledAlone
    private static void geluTanhBackwardFromTanh(float[] x, float[] t, int tOff, float[] g, float[] gx, int s, int e) {
        for (int i = s; i < e; i += V) accumulate(geluTanhDerivative(load(x, i), load(t, i - tOff)), g, gx, i);
    }

    private static void siluForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) silu(load(x, i)).intoArray(y, i);
    }

    private static void siluBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        twoPasses(Activations::sigmoid, Activations::siluBackwardFromSigmoid, x, g, gx, s, e);
    }

    /** t[i - s] = sigmoid(x[i]). */
    @CompiledAlone
    private static void sigmoid(float[] x, float[] t, int s, int e) {
        for (int i = s; i < e; i += V) VecMath.sigmoid(load(x, i)).intoArray(t, i - s);
    }

    @CompiledAlone
    private static void siluBackwardFromSigmoid(float[] x, float[] t, int tOff, float[] g, float[] gx, int s, int e) {
        for (int i = s; i < e; i += V) accumulate(siluDerivative(load(x, i), load(t, i - tOff)), g, gx, i);
    }

    private static void reluForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) load(x, i).max(0f).intoArray(y, i);
    }

    private static void reluBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        FloatVector zero = FloatVector.zero(S);
        for (int i = s; i < e; i += V) {
            // where(x > 0, g, 0), as PyTorch's threshold_backward (no 0 * inf)
            zero.blend(load(g, i), load(x, i).compare(VectorOperators.GT, 0f)).add(load(gx, i)).intoArray(gx, i);
        }
    }

    private static void softplusForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) VecMath.softplus(load(x, i)).intoArray(y, i);
    }

    private static void softplusBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        for (int i = s; i < e; i += V) accumulate(softplusDerivative(load(x, i)), g, gx, i);
    }

    private static void expForward(float[] x, float[] y, int s, int e) {
        for (int i = s; i < e; i += V) VecMath.exp(load(x, i)).intoArray(y, i);
    }

    private static void expBackward(float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        for (int i = s; i < e; i += V) accumulate(load(y, i), g, gx, i);
    }

    // ---- the functions -------------------------------------------------------------------

    private static FloatVector gelu(FloatVector x) {
        return x.mul(0.5f).mul(VecMath.onePlusErf(x.mul(SQRT1_2)));
    }

    private static FloatVector geluTanh(FloatVector x) {
        return x.mul(0.5f).mul(VecMath.tanh(tanhInner(x)).add(1f));
    }

    /** d/dx of tanh-GELU, given t = tanh(tanhInner(x)). */
    private static FloatVector geluTanhDerivative(FloatVector x, FloatVector t) {
        FloatVector x2 = x.mul(x);
        FloatVector left = t.add(1f).mul(0.5f);
        FloatVector dInner = x2.fma(3f * TANH_KAPPA, 1f).mul(TANH_BETA);
        FloatVector right = x.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(dInner);
        return left.add(right);
    }

    /** sqrt(2/pi) (x + 0.044715 x^3). */
    private static FloatVector tanhInner(FloatVector x) {
        return x.mul(x).fma(TANH_KAPPA, 1f).mul(x).mul(TANH_BETA);
    }

    private static FloatVector silu(FloatVector x) {
        return x.div(VecMath.exp(x.neg()).add(1f));
    }

    /** d/dx of x sigmoid(x), given sig = sigmoid(x). */
    private static FloatVector siluDerivative(FloatVector x, FloatVector sig) {
        return sig.mul(x.mul(sig.neg().add(1f)).add(1f));
    }

    private static FloatVector softplusDerivative(FloatVector x) {
        return VecMath.sigmoid(x).blend(1f, x.compare(VectorOperators.GT, VecMath.SOFTPLUS_THRESHOLD));
    }
}
