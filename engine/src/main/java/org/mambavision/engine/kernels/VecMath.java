package org.mambavision.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float math on vectors and scalars that the JDK does not provide (erf) plus the row primitives
 * (max, sum, softmax) shared by Softmax, Attention, LayerNorm and CrossEntropy.
 *
 * <p>erf: N. Juffa's single-precision approximation (two minimax pieces, split at 475/512):
 * |x| <= 0.9277: x + x * P(x^2); above: 1 - exp(Q(|x|)), i.e. exp(Q) is erfc(|x|), which lets
 * {@link #onePlusErf} avoid the cancellation in 1 + erf(x) for negative x. Maximum error of the
 * pieces about 1 ulp (2e-8 absolute measured against mpmath).
 */
public final class VecMath {
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float ERF_SPLIT = 0.927734375f;

    private VecMath() {}

    // ---- erf -------------------------------------------------------------------------------

    /** x + x * P(x^2), accurate for |x| <= 0.9277. */
    private static FloatVector erfSmall(FloatVector a) {
        FloatVector s = a.mul(a);
        FloatVector r = s.fma(-5.96761703e-4f, 4.99119423e-3f);
        r = r.lanewise(VectorOperators.FMA, s, -2.67681349e-2f);
        r = r.lanewise(VectorOperators.FMA, s, 1.12819925e-1f);
        r = r.lanewise(VectorOperators.FMA, s, -3.76125336e-1f);
        r = r.lanewise(VectorOperators.FMA, s, 1.28379166e-1f);
        return r.fma(a, a);
    }

    /** erfc(t) for t >= 0.9277 (t = |x|). */
    private static FloatVector erfcLarge(FloatVector t) {
        FloatVector s = t.mul(t);
        FloatVector r = t.fma(-1.72853470e-5f, 3.83197126e-4f);
        FloatVector u = t.fma(-3.88396438e-3f, 2.42546219e-2f);
        r = r.fma(s, u);
        r = r.lanewise(VectorOperators.FMA, t, -1.06777877e-1f);
        r = r.lanewise(VectorOperators.FMA, t, -6.34846687e-1f);
        r = r.lanewise(VectorOperators.FMA, t, -1.28717512e-1f);
        r = r.fma(t, t.neg());
        return r.lanewise(VectorOperators.EXP);
    }

    public static FloatVector erf(FloatVector a) {
        FloatVector small = erfSmall(a);
        FloatVector t = a.abs();
        VectorMask<Float> big = t.compare(VectorOperators.GT, ERF_SPLIT);
        if (!big.anyTrue()) return small;
        FloatVector r = erfcLarge(t).neg().add(1f);
        r = r.blend(r.neg(), a.compare(VectorOperators.LT, 0f));
        return small.blend(r, big);
    }

    /** 1 + erf(x), without cancellation for large negative x (it is erfc(-x)). */
    public static FloatVector onePlusErf(FloatVector a) {
        FloatVector small = erfSmall(a).add(1f);
        FloatVector t = a.abs();
        VectorMask<Float> big = t.compare(VectorOperators.GT, ERF_SPLIT);
        if (!big.anyTrue()) return small;
        FloatVector e = erfcLarge(t);
        FloatVector r = e.blend(e.neg().add(2f), a.compare(VectorOperators.GT, 0f));
        return small.blend(r, big);
    }

    private static float erfSmall(float a) {
        float s = a * a;
        float r = Math.fma(-5.96761703e-4f, s, 4.99119423e-3f);
        r = Math.fma(r, s, -2.67681349e-2f);
        r = Math.fma(r, s, 1.12819925e-1f);
        r = Math.fma(r, s, -3.76125336e-1f);
        r = Math.fma(r, s, 1.28379166e-1f);
        return Math.fma(r, a, a);
    }

    private static float erfcLarge(float t) {
        float s = t * t;
        float r = Math.fma(-1.72853470e-5f, t, 3.83197126e-4f);
        float u = Math.fma(-3.88396438e-3f, t, 2.42546219e-2f);
        r = Math.fma(r, s, u);
        r = Math.fma(r, t, -1.06777877e-1f);
        r = Math.fma(r, t, -6.34846687e-1f);
        r = Math.fma(r, t, -1.28717512e-1f);
        r = Math.fma(r, t, -t);
        return (float) Math.exp(r);
    }

    public static float erf(float a) {
        float t = Math.abs(a);
        if (!(t > ERF_SPLIT)) return erfSmall(a);
        return Math.copySign(1f - erfcLarge(t), a);
    }

    public static float onePlusErf(float a) {
        float t = Math.abs(a);
        if (!(t > ERF_SPLIT)) return 1f + erfSmall(a);
        float e = erfcLarge(t);
        return a > 0 ? 2f - e : e;
    }

    // ---- row primitives --------------------------------------------------------------------

    public static float max(float[] a, int off, int n) {
        int i = 0, bound = S.loopBound(n);
        float m = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector vm = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += S.length()) vm = vm.max(FloatVector.fromArray(S, a, off + i));
            m = vm.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, a[off + i]);
        return m;
    }

    /**
     * Sum of a[off .. off+n). Lane-parallel float partials over blocks of 1024 values, each block
     * total added in double, so long rows keep about float precision of the result.
     */
    public static double sum(float[] a, int off, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int blockEnd = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < blockEnd; i += S.length()) acc = acc.add(FloatVector.fromArray(S, a, off + i));
            total += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) total += a[off + i];
        return total;
    }

    /** Dot product of two runs, same blocking as {@link #sum}. */
    public static double dot(float[] a, int offA, float[] b, int offB, int n) {
        double total = 0;
        int i = 0;
        int bound = S.loopBound(n);
        while (i < bound) {
            int blockEnd = Math.min(bound, i + 1024);
            FloatVector acc = FloatVector.zero(S);
            for (; i < blockEnd; i += S.length()) {
                acc = FloatVector.fromArray(S, a, offA + i).fma(FloatVector.fromArray(S, b, offB + i), acc);
            }
            total += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) total += (double) a[offA + i] * b[offB + i];
        return total;
    }

    /**
     * In place: a[off..off+n) = softmax(a[off..off+n)), stable (max subtracted).
     * Returns the log-sum-exp of the input row (so p = exp(x - lse)).
     */
    public static float softmaxInPlace(float[] a, int off, int n) {
        return softmax(a, off, a, off, n);
    }

    /** dst[dstOff..+n) = softmax(src[srcOff..+n)); returns the log-sum-exp of the source row. */
    public static float softmax(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        float m = max(src, srcOff, n);
        if (m == Float.NEGATIVE_INFINITY) m = 0; // all -inf: 0 / 0 gives NaN, as PyTorch does
        double s = expShifted(src, srcOff, dst, dstOff, n, m);
        scaleInPlace(dst, dstOff, n, (float) (1.0 / s));
        return m + (float) Math.log(s);
    }

    /** log(sum(exp(a[off..off+n)))), stable; {@code scratch} receives the shifted exponentials. */
    public static float logSumExp(float[] a, int off, int n, float[] scratch) {
        float m = max(a, off, n);
        if (Float.isInfinite(m)) return m;
        return m + (float) Math.log(expShifted(a, off, scratch, 0, n, m));
    }

    /** dst = exp(src - m); returns the sum of dst. */
    private static double expShifted(float[] src, int srcOff, float[] dst, int dstOff, int n, float m) {
        int i = 0, bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector e = FloatVector.fromArray(S, src, srcOff + i).sub(m).lanewise(VectorOperators.EXP);
            e.intoArray(dst, dstOff + i);
            acc = acc.add(e);
        }
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(src[srcOff + i] - m);
            dst[dstOff + i] = e;
            s += e;
        }
        return s;
    }

    public static void scaleInPlace(float[] a, int off, int n, float s) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) FloatVector.fromArray(S, a, off + i).mul(s).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] *= s;
    }

    /** y[offY + i] += s * x[offX + i]. */
    public static void axpy(int n, float s, float[] x, int offX, float[] y, int offY) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, offX + i).lanewise(VectorOperators.FMA, s, FloatVector.fromArray(S, y, offY + i)).intoArray(y, offY + i);
        }
        for (; i < n; i++) y[offY + i] += s * x[offX + i];
    }

    /** y[offY + i] += x[offX + i]. */
    public static void addInto(int n, float[] x, int offX, float[] y, int offY) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, x, offX + i).add(FloatVector.fromArray(S, y, offY + i)).intoArray(y, offY + i);
        }
        for (; i < n; i++) y[offY + i] += x[offX + i];
    }
}
