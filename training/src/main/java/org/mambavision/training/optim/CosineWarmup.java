package org.mambavision.training.optim;

/**
 * timm's CosineLRScheduler with t_in_epochs=False, one cycle: linear warmup from warmupLr to baseLr
 * over warmupIters, cosine from baseLr down to minLr reached at totalIters, minLr afterwards (cool-down).
 *
 * <p>Without warmupPrefix (timm's default) the cosine is a function of the iteration itself, over
 * [0, totalIters) (timm t_initial = totalIters), so warmup ends slightly below baseLr. With warmupPrefix the cosine
 * starts after warmup and runs over [warmupIters, totalIters) (timm t_initial = totalIters - warmupIters).
 */
public record CosineWarmup(double baseLr, double minLr, double warmupLr, long warmupIters, long totalIters, boolean warmupPrefix)
        implements LrSchedule {
    public CosineWarmup {
        LrSchedule.checkLr("CosineWarmup", "baseLr", baseLr);
        LrSchedule.checkLr("CosineWarmup", "minLr", minLr);
        LrSchedule.checkLr("CosineWarmup", "warmupLr", warmupLr);
        if (warmupIters < 0) throw new IllegalArgumentException("CosineWarmup: warmupIters must be >= 0, got " + warmupIters);
        if (totalIters <= (warmupPrefix ? warmupIters : 0)) {
            throw new IllegalArgumentException("CosineWarmup: totalIters " + totalIters + " must be > " + (warmupPrefix ? "warmupIters " + warmupIters : "0"));
        }
    }

    public CosineWarmup(double baseLr, double minLr, double warmupLr, long warmupIters, long totalIters) {
        this(baseLr, minLr, warmupLr, warmupIters, totalIters, false);
    }

    @Override
    public double lr(long t) {
        LrSchedule.checkIteration(t);
        if (t < warmupIters) return LrSchedule.warmup(warmupLr, baseLr, warmupIters, t);
        long start = warmupPrefix ? warmupIters : 0, period = totalIters - start;
        long tc = t - start;
        if (tc >= period) return minLr;
        return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * tc / period));
    }
}
