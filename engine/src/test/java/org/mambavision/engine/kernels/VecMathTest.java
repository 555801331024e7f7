package org.mambavision.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * Accuracy of the deterministic exp/log family against double references, agreement of every vector
 * function with its scalar twin (bit for bit, repeated so that the vector code runs interpreted and
 * C2-compiled), special values, and the fixed-order lane sum.
 */
class VecMathTest {
    private static final int V = VecMath.S.length();

    private interface ScalarFn {
        float apply(float x);
    }

    /** Vector results over x (length a multiple of V). */
    private static float[] vector(UnaryOperator<FloatVector> f, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += V) f.apply(FloatVector.fromArray(VecMath.S, x, i)).intoArray(y, i);
        return y;
    }

    private static float[] grid(float lo, float hi, int n) {
        n = (n + V - 1) / V * V;
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (lo + (hi - (double) lo) * i / (n - 1));
        return g;
    }

    /** Random floats with uniformly distributed exponents in [2^eLo, 2^eHi), both signs if signed. */
    private static float[] logUniform(long seed, int eLo, int eHi, boolean signed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] g = new float[(n + V - 1) / V * V];
        for (int i = 0; i < g.length; i++) {
            float m = (float) Math.scalb(1 + r.nextDouble(), eLo + r.nextInt(eHi - eLo));
            g[i] = signed && r.nextBoolean() ? -m : m;
        }
        return g;
    }

    /** Max of |got - want| / (|want| + abs) over the points; checks vector == scalar bit for bit on the way. */
    private static double maxError(String name, UnaryOperator<FloatVector> vf, ScalarFn sf, DoubleUnaryOperator ref, float[] x, double abs) {
        float[] y = vector(vf, x);
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            float s = sf.apply(x[i]);
            if (Float.floatToIntBits(s) != Float.floatToIntBits(y[i])) {
                fail(name + "(" + x[i] + "): vector " + y[i] + " != scalar " + s);
            }
            double want = ref.applyAsDouble(x[i]);
            double err = Math.abs(y[i] - want) / (Math.abs(want) + abs);
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        if (Double.isNaN(worst)) fail(name + "(" + x[worstAt] + ") = " + y[worstAt] + ", want " + ref.applyAsDouble(x[worstAt]));
        return worst;
    }

    private static void assertAccurate(String name, UnaryOperator<FloatVector> vf, ScalarFn sf, DoubleUnaryOperator ref,
                                       float[] x, double rel, double abs) {
        double e = maxError(name, vf, sf, ref, x, abs);
        assertTrue(e <= rel, name + ": max relative error " + e + " > " + rel);
    }

    @Test
    void expIsAccurateTo3e7() {
        assertAccurate("exp", VecMath::exp, VecMath::exp, Math::exp, grid(-87.33f, 88.72f, 400_000), 3e-7, 0);
        assertAccurate("exp", VecMath::exp, VecMath::exp, Math::exp, grid(-2f, 2f, 100_000), 3e-7, 0);
        assertAccurate("exp", VecMath::exp, VecMath::exp, Math::exp, logUniform(1, -40, 6, true, 100_000), 3e-7, 0);
    }

    @Test
    void logIsAccurateTo3e7() {
        assertAccurate("log", VecMath::log, VecMath::log, Math::log, logUniform(2, -126, 127, false, 200_000), 3e-7, 0);
        assertAccurate("log", VecMath::log, VecMath::log, Math::log, grid(0.5f, 2f, 200_000), 3e-7, 0);
        // around 1, where log -> 0: relative accuracy holds too
        assertAccurate("log", VecMath::log, VecMath::log, Math::log, grid(0.999f, 1.001f, 20_000), 3e-7, 0);
        // subnormal inputs take the slow path
        assertAccurate("log", VecMath::log, VecMath::log, Math::log, logUniform(3, -149, -126, false, 1000), 3e-7, 0);
    }

    @Test
    void log1pIsAccurateForSoftplusArguments() {
        assertAccurate("log1p", VecMath::log1p, VecMath::log1p, Math::log1p, grid(0f, 1f, 100_000), 3e-7, 0);
        assertAccurate("log1p", VecMath::log1p, VecMath::log1p, Math::log1p, logUniform(4, -126, 0, false, 100_000), 3e-7, 0);
        assertAccurate("log1p", VecMath::log1p, VecMath::log1p, Math::log1p, grid(-0.5f, 8f, 100_000), 3e-7, 0);
    }

    @Test
    void derivedFunctionsWithin1e6() {
        float[] wide = grid(-30f, 30f, 200_000);
        float[] tiny = logUniform(5, -60, 3, true, 100_000);
        for (float[] x : new float[][] {wide, tiny}) {
            assertAccurate("tanh", VecMath::tanh, VecMath::tanh, Math::tanh, x, 1e-6, 0);
            assertAccurate("sigmoid", VecMath::sigmoid, VecMath::sigmoid, v -> 1 / (1 + Math.exp(-v)), x, 1e-6, 0);
            assertAccurate("softplus", VecMath::softplus, VecMath::softplus, v -> v > 20 ? v : Math.log1p(Math.exp(v)), x, 1e-6, 0);
        }
        // the softplus threshold, and far into both tails (no overflow, no underflow to 0 too early)
        assertEquals(20.5f, VecMath.softplus(20.5f));
        assertEquals(100f, VecMath.softplus(100f));
        assertEquals(Math.exp(-80), VecMath.softplus(-80f), 1e-6 * Math.exp(-80));
        assertEquals(-1f, VecMath.tanh(-50f));
        assertEquals(0f, VecMath.sigmoid(-100f));
    }

    @Test
    void specialValues() {
        float nan = Float.NaN, inf = Float.POSITIVE_INFINITY;
        float[] x = {nan, inf, -inf, 0f, -0f, -100f, 100f, 88.72283f, 88.722839f, -87.33654f, -87.3366f, -1e-45f, Float.MIN_VALUE, Float.MAX_VALUE, 1f, -1f};
        float[] padded = new float[(x.length + V - 1) / V * V];
        System.arraycopy(x, 0, padded, 0, x.length);
        float[] e = vector(VecMath::exp, padded), l = vector(VecMath::log, padded), t = vector(VecMath::tanh, padded);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VecMath.exp(x[i])), Float.floatToIntBits(e[i]), "exp(" + x[i] + ") vector vs scalar");
            assertEquals(Float.floatToIntBits(VecMath.log(x[i])), Float.floatToIntBits(l[i]), "log(" + x[i] + ") vector vs scalar");
            assertEquals(Float.floatToIntBits(VecMath.tanh(x[i])), Float.floatToIntBits(t[i]), "tanh(" + x[i] + ") vector vs scalar");
        }
        assertTrue(Float.isNaN(VecMath.exp(nan)));
        assertEquals(inf, VecMath.exp(inf));
        assertEquals(0f, VecMath.exp(-inf));
        assertEquals(1f, VecMath.exp(0f));
        assertEquals(0f, VecMath.exp(-100f));
        assertEquals(inf, VecMath.exp(100f));
        assertEquals(Math.exp(88.72283f), VecMath.exp(88.72283f), 3e-7 * Math.exp(88.72283f));
        assertEquals(inf, VecMath.exp(88.722839f)); // exp overflows float just above ln(FLT_MAX)
        assertEquals(Math.exp(-87.33654f), VecMath.exp(-87.33654f), 3e-7 * Math.exp(-87.33654f));
        assertTrue(Float.isNaN(VecMath.log(nan)));
        assertTrue(Float.isNaN(VecMath.log(-1f)));
        assertEquals(-inf, VecMath.log(0f));
        assertEquals(-inf, VecMath.log(-0f));
        assertEquals(inf, VecMath.log(inf));
        assertEquals(0f, VecMath.log(1f));
        assertEquals(Math.log(Float.MAX_VALUE), VecMath.log(Float.MAX_VALUE), 3e-7 * Math.log(Float.MAX_VALUE));
        assertEquals(Math.log(Float.MIN_VALUE), VecMath.log(Float.MIN_VALUE), 3e-7 * -Math.log(Float.MIN_VALUE));
        assertEquals(0f, VecMath.log1p(0f));
        assertEquals(1e-30f, VecMath.log1p(1e-30f));
        assertTrue(Float.isNaN(VecMath.tanh(nan)));
        assertEquals(1f, VecMath.tanh(inf));
        assertEquals(-1f, VecMath.tanh(-inf));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(VecMath.tanh(-0f)));
    }

    /**
     * The same inputs many times: the first passes run the vector code in the interpreter, later ones
     * C1/C2-compiled; every pass must give the scalar twin's bits.
     */
    @Test
    void vectorMatchesScalarInEveryTier() {
        float[] x = logUniform(6, -20, 7, true, 4096);
        ScalarFn[] scalar = {VecMath::exp, v -> VecMath.log(Math.abs(v)), VecMath::log1p, VecMath::tanh, VecMath::sigmoid, VecMath::softplus,
            VecMath::erf, VecMath::onePlusErf};
        @SuppressWarnings("unchecked")
        UnaryOperator<FloatVector>[] vec = new UnaryOperator[] {(UnaryOperator<FloatVector>) VecMath::exp,
            (UnaryOperator<FloatVector>) v -> VecMath.log(v.abs()), (UnaryOperator<FloatVector>) v -> VecMath.log1p(v.abs()),
            (UnaryOperator<FloatVector>) VecMath::tanh, (UnaryOperator<FloatVector>) VecMath::sigmoid,
            (UnaryOperator<FloatVector>) VecMath::softplus, (UnaryOperator<FloatVector>) VecMath::erf,
            (UnaryOperator<FloatVector>) VecMath::onePlusErf};
        for (int pass = 0; pass < 200; pass++) {
            for (int f = 0; f < vec.length; f++) {
                float[] y = vector(vec[f], x);
                for (int i = 0; i < x.length; i++) {
                    float s = f == 2 ? scalar[f].apply(Math.abs(x[i])) : scalar[f].apply(x[i]);
                    if (Float.floatToIntBits(s) != Float.floatToIntBits(y[i])) {
                        fail("function " + f + " pass " + pass + " x=" + x[i] + ": vector " + y[i] + " != scalar " + s);
                    }
                }
            }
        }
    }

    @Test
    void sumLanesIsAFixedOrderTree() {
        SplittableRandom r = new SplittableRandom(7);
        float[] a = new float[V];
        for (int pass = 0; pass < 20_000; pass++) {
            for (int i = 0; i < V; i++) a[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-20, 20)));
            // reference: the same pairwise tree in scalar code
            float[] t = a.clone();
            for (int h = V / 2; h >= 1; h /= 2) for (int i = 0; i < h; i++) t[i] = t[i] + t[i + h];
            float got = VecMath.sumLanes(FloatVector.fromArray(VecMath.S, a, 0));
            assertEquals(Float.floatToIntBits(t[0]), Float.floatToIntBits(got), "pass " + pass);
        }
        assertEquals(V * (V - 1) / 2f, VecMath.sumLanes(FloatVector.fromArray(VecMath.S, grid(0, V - 1, V), 0)), 1e-3);
    }

    @Test
    void copyStride2TakesEveryOtherElementUpToTheArrayEnd() {
        float[] src = new float[101];
        for (int i = 0; i < src.length; i++) src[i] = i * 0.5f - 7;
        for (int s : new int[] {0, 1, 3, 17}) {
            for (int n : new int[] {0, 1, 15, 16, 17, 33, (src.length - 1 - s) / 2 + 1}) {
                if (s + 2 * (n - 1) >= src.length) continue;
                float[] dst = new float[n + 5];
                java.util.Arrays.fill(dst, 99f);
                VecMath.copyStride2(n, src, s, dst, 2);
                for (int i = 0; i < n; i++) assertEquals(src[s + 2 * i], dst[2 + i], "s " + s + " n " + n + " at " + i);
                assertEquals(99f, dst[0]);
                assertEquals(99f, dst[1]);
                for (int i = n + 2; i < dst.length; i++) assertEquals(99f, dst[i], "past the end");
            }
        }
    }
}
