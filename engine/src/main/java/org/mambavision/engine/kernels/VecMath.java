package org.mambavision.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float math on vectors and scalars that the JDK does not provide (erf) or does not provide
 * reproducibly, plus the row primitives (max, sum, softmax) shared by Softmax, Attention, LayerNorm
 * and CrossEntropy.
 *
 * <p><b>Determinism.</b> The Vector API's {@code reduceLanes(ADD)} leaves the summation order open and
 * its transcendental lanewise ops ({@code EXP}, {@code LOG1P}, {@code TANH}, ...) are SVML-like stubs
 * in C2 but {@code Math} per lane in the interpreter and C1: the last bits depend on the JIT tier, so
 * repeated calls in one JVM differ. Everything here is built only from lanewise ops that are exact
 * in IEEE arithmetic (add, mul, fma, div, min/max, compare/blend, bit reinterpretation, shifts,
 * rearrange), so a result has the same bits in every tier. Each function has a scalar twin doing the
 * same operations in the same order ({@link Math#fma} for the vector fma), so a value gives the same
 * result in a vector body and in a scalar tail.
 *
 * <p>exp and log follow Cephes expf/logf (Cody-Waite range reduction, minimax polynomials); about
 * 1 ulp. erf: N. Juffa's single-precision approximation (two minimax pieces, split at 475/512):
 * |x| <= 0.9277: x + x * P(x^2); above: 1 - exp(Q(|x|)), i.e. exp(Q) is erfc(|x|), which lets
 * {@link #onePlusErf} avoid the cancellation in 1 + erf(x) for negative x. Maximum error of the
 * pieces about 1 ulp (2e-8 absolute measured against mpmath).
 */
public final class VecMath {
    static { JitInlining.install(); } // vector helpers inlined by C2, see there
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float ERF_SPLIT = 0.927734375f;

    private VecMath() {}

    // ---- fixed-order lane sum --------------------------------------------------------------

    /**
     * Butterfly shuffles i -> i ^ h, one constant per step (null where h >= the lane count): a
     * static final shuffle has a known class, so C2 intrinsifies the rearrange; one loaded from an
     * array does not, and falls back to per-lane Java code.
     */
    private static final VectorShuffle<Float> XOR32 = xorShuffle(32), XOR16 = xorShuffle(16), XOR8 = xorShuffle(8),
            XOR4 = xorShuffle(4), XOR2 = xorShuffle(2), XOR1 = xorShuffle(1);

    private static VectorShuffle<Float> xorShuffle(int h) {
        return h < S.length() ? VectorShuffle.fromOp(S, i -> i ^ h) : null;
    }

    /**
     * Sum of the lanes in a fixed order (a pairwise tree: lane i + lane i+V/2, then ...), the same bits
     * in every JIT tier, unlike {@code reduceLanes(ADD)}. (The lane-count tests fold to constants.)
     */
    public static float sumLanes(FloatVector v) {
        if (S.length() > 32) v = v.add(v.rearrange(XOR32));
        if (S.length() > 16) v = v.add(v.rearrange(XOR16));
        if (S.length() > 8) v = v.add(v.rearrange(XOR8));
        if (S.length() > 4) v = v.add(v.rearrange(XOR4));
        if (S.length() > 2) v = v.add(v.rearrange(XOR2));
        if (S.length() > 1) v = v.add(v.rearrange(XOR1));
        return v.lane(0);
    }

    // ---- exp -------------------------------------------------------------------------------

    /** exp(x) underflows below this (to 0; the subnormal range is flushed) ... */
    private static final float EXP_LO = -87.33654f;
    /** ... and overflows above this (the largest float whose exp is finite). */
    private static final float EXP_HI = 88.72283f;
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUND_MAGIC = 12582912f;
    /** ln 2 split (Cody-Waite): LN2_HI has few mantissa bits, so k * LN2_HI is exact. */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** Cephes expf: e^r = 1 + r + r^2 P(r) on |r| <= ln2 / 2. */
    private static final float EXP_P0 = 1.9875691500e-4f, EXP_P1 = 1.3981999507e-3f, EXP_P2 = 8.3334519073e-3f,
            EXP_P3 = 4.1665795894e-2f, EXP_P4 = 1.6666665459e-1f, EXP_P5 = 5.0000001201e-1f;

    /**
     * e^x, about 1 ulp; 0 for x below -87.34 (no subnormals), +inf above 88.72, NaN for NaN.
     * x = k ln2 + r, e^x = 2^k e^r with 2^k added to the exponent bits.
     */
    public static FloatVector exp(FloatVector x) {
        // Clamp by compare + blend: max/min carry Java's NaN and -0 rules and cost several instructions each.
        FloatVector xc = x.blend(EXP_LO, x.compare(VectorOperators.LT, EXP_LO)).blend(EXP_HI, x.compare(VectorOperators.GT, EXP_HI));
        FloatVector z = xc.fma(LOG2E, ROUND_MAGIC); // k in the low mantissa bits
        FloatVector k = z.sub(ROUND_MAGIC);
        FloatVector r = k.lanewise(VectorOperators.FMA, -LN2_HI, xc);
        r = k.lanewise(VectorOperators.FMA, -LN2_LO, r);
        FloatVector p = r.fma(EXP_P0, EXP_P1).lanewise(VectorOperators.FMA, r, EXP_P2);
        p = p.lanewise(VectorOperators.FMA, r, EXP_P3).lanewise(VectorOperators.FMA, r, EXP_P4).lanewise(VectorOperators.FMA, r, EXP_P5);
        p = p.fma(r.mul(r), r).add(1f);
        // bits(z) << 23 == k << 23 (mod 2^32): add k to the exponent of p (the result stays normal in range)
        IntVector scale = z.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        FloatVector e = p.reinterpretAsInts().add(scale).reinterpretAsFloats();
        e = e.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        e = e.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
        return e.blend(x, x.compare(VectorOperators.NE, x)); // NaN
    }

    /** Scalar twin of {@link #exp(FloatVector)}: the same bits for the same input. */
    public static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float z = Math.fma(xc, LOG2E, ROUND_MAGIC);
        float k = z - ROUND_MAGIC;
        float r = Math.fma(k, -LN2_HI, xc);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(Math.fma(r, EXP_P0, EXP_P1), r, EXP_P2);
        p = Math.fma(Math.fma(Math.fma(p, r, EXP_P3), r, EXP_P4), r, EXP_P5);
        p = Math.fma(p, r * r, r) + 1f;
        float e = Float.intBitsToFloat(Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(z) << 23));
        if (x < EXP_LO) e = 0f;
        if (x > EXP_HI) e = Float.POSITIVE_INFINITY;
        return x != x ? x : e;
    }

    // ---- log -------------------------------------------------------------------------------

    private static final int SQRT_HALF_BITS = 0x3f3504f3; // bits of sqrt(1/2)
    private static final int MANTISSA_MASK = 0x007fffff;
    /** Cephes logf: log(1 + f) = f - f^2 / 2 + f^3 P(f) for 1 + f in [sqrt(1/2), sqrt(2)). */
    private static final float LOG_P0 = 7.0376836292e-2f, LOG_P1 = -1.1514610310e-1f, LOG_P2 = 1.1676998740e-1f,
            LOG_P3 = -1.2420140846e-1f, LOG_P4 = 1.4249322787e-1f, LOG_P5 = -1.6668057665e-1f,
            LOG_P6 = 2.0000714765e-1f, LOG_P7 = -2.4999993993e-1f, LOG_P8 = 3.3333331174e-1f;
    private static final float TWO_POW_24 = 16777216f;

    /**
     * Natural log, about 1 ulp. x = 2^e m with m in [sqrt(1/2), sqrt(2)) taken from the bits;
     * log x = e ln2 + log(m). Zero, negative, subnormal, infinite and NaN inputs go to a slow path.
     */
    public static FloatVector log(FloatVector x) {
        IntVector ix = x.reinterpretAsInts().sub(SQRT_HALF_BITS);
        FloatVector e = (FloatVector) ix.lanewise(VectorOperators.ASHR, 23).convert(VectorOperators.I2F, 0);
        FloatVector f = ix.and(MANTISSA_MASK).add(SQRT_HALF_BITS).reinterpretAsFloats().sub(1f);
        FloatVector z = f.mul(f);
        FloatVector y = f.fma(LOG_P0, LOG_P1).lanewise(VectorOperators.FMA, f, LOG_P2);
        y = y.lanewise(VectorOperators.FMA, f, LOG_P3).lanewise(VectorOperators.FMA, f, LOG_P4).lanewise(VectorOperators.FMA, f, LOG_P5);
        y = y.lanewise(VectorOperators.FMA, f, LOG_P6).lanewise(VectorOperators.FMA, f, LOG_P7).lanewise(VectorOperators.FMA, f, LOG_P8);
        y = y.mul(f).mul(z);
        y = e.lanewise(VectorOperators.FMA, LN2_LO, y);
        y = z.lanewise(VectorOperators.FMA, -0.5f, y);
        FloatVector r = e.lanewise(VectorOperators.FMA, LN2_HI, f.add(y));
        VectorMask<Float> normal = x.compare(VectorOperators.GE, Float.MIN_NORMAL).and(x.compare(VectorOperators.LT, Float.POSITIVE_INFINITY));
        return normal.allTrue() ? r : logSpecial(x, r, normal);
    }

    /** Lanes outside the positive normal range: subnormals rescaled by 2^24, then 0, negatives, inf and NaN. */
    private static FloatVector logSpecial(FloatVector x, FloatVector r, VectorMask<Float> normal) {
        VectorMask<Float> sub = x.compare(VectorOperators.GT, 0f).and(x.compare(VectorOperators.LT, Float.MIN_NORMAL));
        if (sub.anyTrue()) r = r.blend(log(x.mul(TWO_POW_24)).sub(24 * LN2_HI).sub(24 * LN2_LO), sub);
        r = r.blend(Float.NaN, x.compare(VectorOperators.LT, 0f));
        r = r.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        r = r.blend(x, x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY).or(x.compare(VectorOperators.NE, x)));
        return r;
    }

    /** Scalar twin of {@link #log(FloatVector)}. */
    public static float log(float x) {
        if (!(x >= Float.MIN_NORMAL && x < Float.POSITIVE_INFINITY)) {
            if (x > 0f && x < Float.MIN_NORMAL) return log(x * TWO_POW_24) - 24 * LN2_HI - 24 * LN2_LO;
            if (x < 0f) return Float.NaN;
            if (x == 0f) return Float.NEGATIVE_INFINITY;
            return x; // +inf, NaN
        }
        int ix = Float.floatToRawIntBits(x) - SQRT_HALF_BITS;
        float e = (float) (ix >> 23);
        float f = Float.intBitsToFloat((ix & MANTISSA_MASK) + SQRT_HALF_BITS) - 1f;
        float z = f * f;
        float y = Math.fma(Math.fma(f, LOG_P0, LOG_P1), f, LOG_P2);
        y = Math.fma(Math.fma(Math.fma(y, f, LOG_P3), f, LOG_P4), f, LOG_P5);
        y = Math.fma(Math.fma(Math.fma(y, f, LOG_P6), f, LOG_P7), f, LOG_P8);
        y = y * f * z;
        y = Math.fma(e, LN2_LO, y);
        y = Math.fma(z, -0.5f, y);
        return Math.fma(e, LN2_HI, f + y);
    }

    /**
     * log(1 + y) for finite y > -1, accurate also for tiny y: with u = 1 + y rounded,
     * log1p(y) = log(u) - ((u - 1) - y) / u corrects the rounding of u to first order.
     */
    public static FloatVector log1p(FloatVector y) {
        FloatVector u = y.add(1f);
        return log(u).sub(u.sub(1f).sub(y).div(u));
    }

    /** Scalar twin of {@link #log1p(FloatVector)}. */
    public static float log1p(float y) {
        float u = y + 1f;
        return log(u) - ((u - 1f) - y) / u;
    }

    // ---- functions built on exp and log ----------------------------------------------------

    /** 1 / (1 + e^-x). */
    public static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    public static float sigmoid(float x) {
        return 1f / (exp(-x) + 1f);
    }

    /** PyTorch's softplus threshold: softplus(x) = x above it. */
    public static final float SOFTPLUS_THRESHOLD = 20f;

    /** x > 20 ? x : max(x, 0) + log1p(exp(-|x|)), exact in both tails (PyTorch semantics, beta 1). */
    public static FloatVector softplus(FloatVector x) {
        FloatVector sp = log1p(exp(x.abs().neg())).add(x.blend(0f, x.compare(VectorOperators.LT, 0f)));
        return sp.blend(x, x.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD));
    }

    public static float softplus(float x) {
        float sp = log1p(exp(-Math.abs(x))) + Math.max(x, 0f);
        return x > SOFTPLUS_THRESHOLD ? x : sp;
    }

    private static final float TANH_SMALL = 0.625f;
    /** Cephes tanhf: tanh(x) = x + x s P(s), s = x^2, for |x| < 0.625. */
    private static final float TANH_P0 = -5.70498872745e-3f, TANH_P1 = 2.06390887954e-2f, TANH_P2 = -5.37397155531e-2f,
            TANH_P3 = 1.33314422036e-1f, TANH_P4 = -3.33332819422e-1f;
    private static final int SIGN_BIT = 0x80000000;

    /** tanh: an odd polynomial below |x| = 0.625, else 1 - 2 / (e^{2|x|} + 1) (1 for large |x|); sign of x. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(a.add(a)).add(1f)));
        FloatVector s = a.mul(a);
        FloatVector small = s.fma(TANH_P0, TANH_P1).lanewise(VectorOperators.FMA, s, TANH_P2);
        small = small.lanewise(VectorOperators.FMA, s, TANH_P3).lanewise(VectorOperators.FMA, s, TANH_P4);
        small = small.mul(s).fma(a, a);
        FloatVector t = big.blend(small, a.compare(VectorOperators.LT, TANH_SMALL));
        return t.reinterpretAsInts().or(x.reinterpretAsInts().and(SIGN_BIT)).reinterpretAsFloats();
    }

    public static float tanh(float x) {
        float a = Math.abs(x), t;
        if (a < TANH_SMALL) {
            float s = a * a;
            float p = Math.fma(Math.fma(s, TANH_P0, TANH_P1), s, TANH_P2);
            p = Math.fma(Math.fma(p, s, TANH_P3), s, TANH_P4);
            t = Math.fma(p * s, a, a);
        } else {
            t = 1f - 2f / (exp(a + a) + 1f);
        }
        return Float.intBitsToFloat(Float.floatToRawIntBits(t) | (Float.floatToRawIntBits(x) & SIGN_BIT));
    }

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
        return exp(r);
    }

    /** Branch-free: an early return would merge two vectors in a phi, which C2 boxes. */
    public static FloatVector erf(FloatVector a) {
        FloatVector small = erfSmall(a);
        FloatVector t = a.abs();
        VectorMask<Float> big = t.compare(VectorOperators.GT, ERF_SPLIT);
        FloatVector r = erfcLarge(t).neg().add(1f);
        r = r.blend(r.neg(), a.compare(VectorOperators.LT, 0f));
        return small.blend(r, big);
    }

    /** 1 + erf(x), without cancellation for large negative x (it is erfc(-x)). */
    public static FloatVector onePlusErf(FloatVector a) {
        FloatVector small = erfSmall(a).add(1f);
        FloatVector t = a.abs();
        VectorMask<Float> big = t.compare(VectorOperators.GT, ERF_SPLIT);
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
        return exp(r);
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
            total += sumLanes(acc);
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
            total += sumLanes(acc);
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

    /**
     * In place: a[off..off+n) = softmax(scale * a[off..off+n)) for a positive scale, stable; returns the
     * log-sum-exp of the scaled row. The scale is folded into the exponent (no pass of its own), and the
     * maximum of the scaled row is the scaled maximum (rounding is monotonic). Full vectors, then a scalar
     * tail with the bit-identical scalar exp: masked loops here were compiled with boxed vectors (an
     * allocation per vector, and 20-60x slower at times).
     */
    public static float softmaxScaled(float[] a, int off, int n, float scale) {
        if (!(scale > 0)) throw new IllegalArgumentException("softmaxScaled needs a positive scale, got " + scale);
        float m = max(a, off, n) * scale;
        if (m == Float.NEGATIVE_INFINITY) m = 0; // all -inf: 0 / 0 gives NaN, as PyTorch does
        double sum = expScaledShifted(a, off, n, scale, m);
        scaleInPlace(a, off, n, (float) (1.0 / sum));
        return m + (float) Math.log(sum);
    }

    /** In place: a = exp(scale * a - m), one fused multiply-add per element; returns the sum. */
    private static double expScaledShifted(float[] a, int off, int n, float scale, float m) {
        int i = 0, bound = S.loopBound(n);
        FloatVector negM = FloatVector.broadcast(S, -m), vs = FloatVector.broadcast(S, scale), acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector e = exp(FloatVector.fromArray(S, a, off + i).fma(vs, negM));
            e.intoArray(a, off + i);
            acc = acc.add(e);
        }
        double sum = sumLanes(acc);
        for (; i < n; i++) {
            float e = exp(Math.fma(a[off + i], scale, -m));
            a[off + i] = e;
            sum += e;
        }
        return sum;
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
            FloatVector e = exp(FloatVector.fromArray(S, src, srcOff + i).sub(m));
            e.intoArray(dst, dstOff + i);
            acc = acc.add(e);
        }
        double s = sumLanes(acc);
        for (; i < n; i++) {
            float e = exp(src[srcOff + i] - m);
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

    /** Lane i takes lane 2i of the pair (v0, v1): the even elements of 2 * V consecutive floats. */
    private static final VectorShuffle<Float> EVEN_OF_PAIR = VectorShuffle.fromOp(S, i -> 2 * i);

    /**
     * dst[d + i] = src[s + 2i] for i < n: one stride-2 phase of a row (DirectConv's input copy for strided
     * convolutions), a vector at a time from two loads and a two-vector rearrange.
     */
    public static void copyStride2(int n, float[] src, int s, float[] dst, int d) {
        int i = 0, v = S.length();
        for (; i + v <= n && s + 2 * i + 2 * v <= src.length; i += v) {
            int si = s + 2 * i;
            FloatVector.fromArray(S, src, si).rearrange(EVEN_OF_PAIR, FloatVector.fromArray(S, src, si + v)).intoArray(dst, d + i);
        }
        for (; i < n; i++) dst[d + i] = src[s + 2 * i];
    }

    /** out[offO + i] = a[offA + i] + b[offB + i]. */
    public static void add(int n, float[] a, int offA, float[] b, int offB, float[] out, int offO) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector.fromArray(S, a, offA + i).add(FloatVector.fromArray(S, b, offB + i)).intoArray(out, offO + i);
        }
        for (; i < n; i++) out[offO + i] = a[offA + i] + b[offB + i];
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
