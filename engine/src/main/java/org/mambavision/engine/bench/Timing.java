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
        return alternatingMedianSeconds(warmup, warmupSeconds, runs, body)[0];
    }

    /**
     * Median seconds per run of each body, timed in alternation (one run of each per round, after each has warmed up
     * as above): two implementations compared on a shared machine see the same background load.
     */
    public static double[] alternatingMedianSeconds(int warmup, double warmupSeconds, int runs, Runnable... bodies) {
        for (Runnable body : bodies) {
            long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
            for (int i = 0; i < warmup || System.nanoTime() < until; i++) body.run();
        }
        double[][] t = new double[bodies.length][runs];
        for (int i = 0; i < runs; i++) {
            for (int b = 0; b < bodies.length; b++) {
                long s = System.nanoTime();
                bodies[b].run();
                t[b][i] = (System.nanoTime() - s) * 1e-9;
            }
        }
        double[] medians = new double[bodies.length];
        for (int b = 0; b < bodies.length; b++) {
            Arrays.sort(t[b]);
            medians[b] = runs % 2 == 1 ? t[b][runs / 2] : 0.5 * (t[b][runs / 2 - 1] + t[b][runs / 2]);
        }
        return medians;
    }
}
