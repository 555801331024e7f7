package org.mambavision.engine.bench;

import java.util.Arrays;

/** Median-of-runs timing for the CLI benchmarks (JMH is used for the engine's own microbenchmarks). */
public final class Timing {
    private Timing() {}

    /** Runs {@code body} for warm-up, then {@code runs} times; returns the median seconds per run. */
    public static double medianSeconds(int warmup, int runs, Runnable body) {
        return medianSeconds(warmup, 0, runs, body);
    }

    /**
     * As {@link #medianSeconds(int, int, Runnable)}, warming up for at least {@code warmupSeconds} too:
     * on two cores C2 takes about a second to compile the big vector kernels, and until it has, they
     * run in the interpreter or in C1 code that boxes every vector.
     */
    public static double medianSeconds(int warmup, double warmupSeconds, int runs, Runnable body) {
        warmUp(warmup, warmupSeconds, body);
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long s = System.nanoTime();
            body.run();
            t[i] = (System.nanoTime() - s) * 1e-9;
        }
        return median(t);
    }

    /** Runs {@code body} at least {@code runs} times and for at least {@code seconds} (see above: C2 compiling). */
    public static void warmUp(int runs, double seconds, Runnable body) {
        long until = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < runs || System.nanoTime() < until; i++) body.run();
    }

    /** The median of {@code v} (the mean of the two middle values for an even count); {@code v} is left as it was. */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
