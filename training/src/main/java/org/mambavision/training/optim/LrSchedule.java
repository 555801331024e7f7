package org.mambavision.training.optim;

/** A learning rate per optimizer iteration (0-based count of completed updates), stepped per iteration. */
@FunctionalInterface
public interface LrSchedule {
    double lr(long iteration);

    /** Linear warmup shared by the schedules (timm): warmupLr + t * (baseLr - warmupLr) / warmupIters for t &lt; warmupIters. */
    static double warmup(double warmupLr, double baseLr, long warmupIters, long t) {
        return warmupLr + t * ((baseLr - warmupLr) / warmupIters);
    }

    static void checkIteration(long t) {
        if (t < 0) throw new IllegalArgumentException("lr schedule: negative iteration " + t);
    }

    static void checkLr(String schedule, String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(schedule + ": " + what + " must be finite and >= 0, got " + v);
    }
}
