package org.mambavision.training.data;

import java.util.SplittableRandom;

/** Seed derivation and the few distributions the data pipeline needs (all deterministic in the generator). */
public final class Rng {
    private Rng() {}

    /** A well-mixed 64-bit value from a sequence of longs (SplitMix64 finaliser chained over the inputs). */
    public static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) h = fmix(h ^ fmix(p + 0x632BE59BD9B4E019L));
        return h;
    }

    private static long fmix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Generator for one item identified by its parts, e.g. (seed, epoch, index). */
    public static SplittableRandom of(long... parts) {
        return new SplittableRandom(mix(parts));
    }

    public static double uniform(SplittableRandom r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }

    /** Standard normal (Box-Muller, one value per call). */
    public static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        if (u1 < 1e-300) u1 = 1e-300;
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang; shape < 1 uses the boost U^(1/shape). */
    public static double gamma(SplittableRandom r, double shape) {
        if (!(shape > 0)) throw new IllegalArgumentException("gamma: shape must be > 0, got " + shape);
        if (shape < 1) {
            double u = r.nextDouble();
            return gamma(r, shape + 1) * Math.pow(Math.max(u, 1e-300), 1 / shape);
        }
        double d = shape - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x, v;
            do {
                x = gaussian(r);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = r.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
        }
    }

    /** Beta(a, b) from two gamma draws. */
    public static double beta(SplittableRandom r, double a, double b) {
        double x = gamma(r, a), y = gamma(r, b);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /** A random permutation of 0..n-1 (Fisher-Yates). */
    public static int[] permutation(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
