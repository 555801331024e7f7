package org.mambavision.training.optim;

import java.util.List;
import java.util.Locale;

/** Optimizers by name (as in a config file). */
public final class Optimizers {
    /** The valid names, in the order error messages list them; {@code optimizer:} in a config is one of these. */
    public static final List<String> NAMES = List.of("adamw", "sgd", "lamb");

    private Optimizers() {}

    /**
     * @param name adamw | sgd | lamb (case-insensitive)
     * @param beta1 adamw/lamb only
     * @param beta2 adamw/lamb only
     * @param eps adamw/lamb only
     * @param momentum sgd only
     * @param nesterov sgd only: Nesterov momentum instead of plain (heavy-ball) momentum
     */
    public static Optimizer create(String name, ParamGroups groups, double weightDecay, double beta1, double beta2,
                                   double eps, double momentum, boolean nesterov) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "adamw" -> new AdamW(groups, beta1, beta2, eps, weightDecay);
            case "lamb" -> new Lamb(groups, beta1, beta2, eps, weightDecay);
            case "sgd" -> new Sgd(groups, momentum, weightDecay, nesterov);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'; valid names: " + String.join(", ", NAMES));
        };
    }
}
