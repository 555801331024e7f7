package org.mambavision.training.optim;

/** Linear warmup from warmupLr to baseLr over warmupIters, then baseLr. */
public record ConstantLr(double baseLr, double warmupLr, long warmupIters) implements LrSchedule {
    public ConstantLr {
        LrSchedule.checkLr("ConstantLr", "baseLr", baseLr);
        LrSchedule.checkLr("ConstantLr", "warmupLr", warmupLr);
        if (warmupIters < 0) throw new IllegalArgumentException("ConstantLr: warmupIters must be >= 0, got " + warmupIters);
    }

    public ConstantLr(double baseLr) {
        this(baseLr, 0, 0);
    }

    @Override
    public double lr(long t) {
        LrSchedule.checkIteration(t);
        return t < warmupIters ? LrSchedule.warmup(warmupLr, baseLr, warmupIters, t) : baseLr;
    }
}
