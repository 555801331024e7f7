package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;

/** Small helpers shared by the op tests. */
final class TestUtil {
    private TestUtil() {}

    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new SplittableRandom(seed), 1f, shape);
    }

    /** |got - want| <= rel * |want| + abs for every element, with the first failure named. */
    static void assertClose(String what, float[] want, float[] got, double rel, double abs) {
        if (want.length != got.length) fail(what + ": length " + got.length + " != " + want.length);
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            if (!(d <= rel * Math.abs(want[i]) + abs)) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i] + " (diff " + d + ")");
            }
        }
    }

    static void assertClose(String what, double[] want, float[] got, double rel, double abs) {
        float[] w = new float[want.length];
        for (int i = 0; i < w.length; i++) w[i] = (float) want[i];
        assertClose(what, w, got, rel, abs);
    }

    /** erf in double: 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)); all terms positive. */
    static double erf(double x) {
        double a = Math.abs(x);
        if (a > 6) return Math.signum(x);
        double term = a, sum = a;
        for (int n = 1; n < 500; n++) {
            term *= 2 * a * a / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return Math.signum(x) * 2 / Math.sqrt(Math.PI) * Math.exp(-a * a) * sum;
    }
}
