package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Elementwise activations with PyTorch float32 semantics, all run by one pointwise engine:
 * each function is a pair (value, derivative) on vectors, selected by {@link Fn}; the engine does
 * the loops, the masked tail, the threading and the tape.
 *
 * <p>The function is chosen with a switch on a loop-invariant enum rather than through an
 * interface so that every vector expression stays inlined (a megamorphic call would box vectors).
 */
public final class Activations {
    private static final VectorSpecies<Float> S = VecMath.S;
    /** Elements per task; below this a tensor stays on the calling thread. */
    private static final int GRAIN = 16384;

    private static final float SQRT1_2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;
    /** sqrt(2 / pi) and the cubic coefficient of PyTorch's tanh approximation. */
    private static final float TANH_BETA = 0.79788456080286536f;
    private static final float TANH_KAPPA = 0.044715f;

    private Activations() {}

    private enum Fn { GELU, GELU_TANH, SILU, RELU, SOFTPLUS, EXP }

    /** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). */
    public static Tensor gelu(Tensor x) { return unary("gelu", Fn.GELU, x); }

    /** GELU with PyTorch's approximate='tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static Tensor geluTanh(Tensor x) { return unary("geluTanh", Fn.GELU_TANH, x); }

    /** x * sigmoid(x). */
    public static Tensor silu(Tensor x) { return unary("silu", Fn.SILU, x); }

    public static Tensor relu(Tensor x) { return unary("relu", Fn.RELU, x); }

    /** PyTorch softplus with beta 1, threshold 20: x > 20 ? x : log1p(exp(x)). */
    public static Tensor softplus(Tensor x) { return unary("softplus", Fn.SOFTPLUS, x); }

    public static Tensor exp(Tensor x) { return unary("exp", Fn.EXP, x); }

    // ---- the engine ----------------------------------------------------------------------

    private static Tensor unary(String op, Fn f, Tensor x) {
        if (x == null) throw new IllegalArgumentException(op + ": input is null");
        Tensor out = Tensor.zeros(x.shape());
        float[] xd = x.data, yd = out.data;
        int n = xd.length;
        Parallel.forRange(n, GRAIN, (s, e) -> forwardRange(f, xd, yd, s, e));
        Tape.record(out, () -> {
            float[] g = out.grad, gx = x.gradBuffer();
            Parallel.forRange(n, GRAIN, (s, e) -> backwardRange(f, xd, yd, g, gx, s, e));
        }, x);
        return out;
    }

    private static void forwardRange(Fn f, float[] x, float[] y, int s, int e) {
        int i = s, bound = s + S.loopBound(e - s);
        for (; i < bound; i += S.length()) value(f, FloatVector.fromArray(S, x, i)).intoArray(y, i);
        if (i < e) {
            VectorMask<Float> m = S.indexInRange(i, e);
            value(f, FloatVector.fromArray(S, x, i, m)).intoArray(y, i, m);
        }
    }

    /** gx += g * f'(x), f' given x and y = f(x). */
    private static void backwardRange(Fn f, float[] x, float[] y, float[] g, float[] gx, int s, int e) {
        int i = s, bound = s + S.loopBound(e - s);
        for (; i < bound; i += S.length()) {
            FloatVector d = derivative(f, FloatVector.fromArray(S, x, i), FloatVector.fromArray(S, y, i));
            d.fma(FloatVector.fromArray(S, g, i), FloatVector.fromArray(S, gx, i)).intoArray(gx, i);
        }
        if (i < e) {
            VectorMask<Float> m = S.indexInRange(i, e);
            FloatVector d = derivative(f, FloatVector.fromArray(S, x, i, m), FloatVector.fromArray(S, y, i, m));
            d.fma(FloatVector.fromArray(S, g, i, m), FloatVector.fromArray(S, gx, i, m)).intoArray(gx, i, m);
        }
    }

    // ---- the functions -------------------------------------------------------------------

    private static FloatVector value(Fn f, FloatVector x) {
        return switch (f) {
            case GELU -> x.mul(0.5f).mul(VecMath.onePlusErf(x.mul(SQRT1_2)));
            case GELU_TANH -> x.mul(0.5f).mul(VecMath.tanh(tanhInner(x)).add(1f));
            case SILU -> x.div(VecMath.exp(x.neg()).add(1f));
            case RELU -> x.max(0f);
            case SOFTPLUS -> VecMath.softplus(x);
            case EXP -> VecMath.exp(x);
        };
    }

    private static FloatVector derivative(Fn f, FloatVector x, FloatVector y) {
        return switch (f) {
            case GELU -> {
                // Phi(x) + x phi(x)
                FloatVector cdf = VecMath.onePlusErf(x.mul(SQRT1_2)).mul(0.5f);
                FloatVector pdf = VecMath.exp(x.mul(x).mul(-0.5f)).mul(INV_SQRT_2PI);
                yield x.fma(pdf, cdf);
            }
            case GELU_TANH -> {
                FloatVector x2 = x.mul(x);
                FloatVector t = VecMath.tanh(tanhInner(x));
                FloatVector left = t.add(1f).mul(0.5f);
                FloatVector dInner = x2.fma(3f * TANH_KAPPA, 1f).mul(TANH_BETA);
                FloatVector right = x.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(dInner);
                yield left.add(right);
            }
            case SILU -> {
                FloatVector sig = VecMath.sigmoid(x);
                yield sig.mul(x.mul(sig.neg().add(1f)).add(1f));
            }
            case RELU -> FloatVector.zero(S).blend(1f, x.compare(VectorOperators.GT, 0f));
            case SOFTPLUS -> {
                yield VecMath.sigmoid(x).blend(1f, x.compare(VectorOperators.GT, VecMath.SOFTPLUS_THRESHOLD));
            }
            case EXP -> y;
        };
    }

    /** sqrt(2/pi) (x + 0.044715 x^3). */
    private static FloatVector tanhInner(FloatVector x) {
        return x.mul(x).fma(TANH_KAPPA, 1f).mul(x).mul(TANH_BETA);
    }
}
