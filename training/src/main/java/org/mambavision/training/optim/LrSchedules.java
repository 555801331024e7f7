package org.mambavision.training.optim;

import java.util.List;
import java.util.Locale;

/** Schedules by name (as in a config file). */
public final class LrSchedules {
    public static final List<String> NAMES = List.of("cosine", "step", "constant");

    private LrSchedules() {}

    /**
     * @param name        cosine | step | constant (case-insensitive)
     * @param minLr       cosine only: the floor reached at totalIters
     * @param totalIters  cosine only: iteration where the cosine reaches minLr
     * @param decayIters  step only: iterations between decays
     * @param decayRate   step only: factor applied at each decay
     */
    public static LrSchedule create(String name, double baseLr, double minLr, double warmupLr, long warmupIters,
                                    long totalIters, long decayIters, double decayRate) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "cosine" -> new CosineWarmup(baseLr, minLr, warmupLr, warmupIters, totalIters);
            case "step" -> new StepLr(baseLr, decayIters, decayRate, warmupLr, warmupIters);
            case "constant" -> new ConstantLr(baseLr, warmupLr, warmupIters);
            default -> throw new IllegalArgumentException("unknown lr schedule '" + name + "'; valid names: " + String.join(", ", NAMES));
        };
    }
}
