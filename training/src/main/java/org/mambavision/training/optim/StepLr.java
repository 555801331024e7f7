package org.mambavision.training.optim;

/**
 * timm's StepLRScheduler with t_in_epochs=False: linear warmup from warmupLr to baseLr over warmupIters,
 * then baseLr * gamma^(t / stepIters) (integer division on the iteration itself, as timm without warmup_prefix).
 */
public record StepLr(double baseLr, long stepIters, double gamma, double warmupLr, long warmupIters) implements LrSchedule {
    public StepLr {
        LrSchedule.checkLr("StepLr", "baseLr", baseLr);
        LrSchedule.checkLr("StepLr", "gamma", gamma);
        LrSchedule.checkLr("StepLr", "warmupLr", warmupLr);
        if (stepIters <= 0) throw new IllegalArgumentException("StepLr: stepIters must be > 0, got " + stepIters);
        if (warmupIters < 0) throw new IllegalArgumentException("StepLr: warmupIters must be >= 0, got " + warmupIters);
    }

    public StepLr(double baseLr, long stepIters, double gamma) {
        this(baseLr, stepIters, gamma, 0, 0);
    }

    @Override
    public double lr(long t) {
        LrSchedule.checkIteration(t);
        if (t < warmupIters) return LrSchedule.warmup(warmupLr, baseLr, warmupIters, t);
        return baseLr * Math.pow(gamma, t / stepIters);
    }
}
