package org.mambavision.training.optim;

import java.util.List;
import java.util.Locale;

/** Optimizers by name (as in a config file), with timm's naming. */
public final class Optimizers {
    public static final List<String> NAMES = List.of("adamw", "lamb", "sgd", "nesterov", "momentum");

    private Optimizers() {}

    /**
     * @param name adamw | lamb | sgd | nesterov | momentum (case-insensitive). As in timm, "sgd" and
     *             "nesterov" are SGD with Nesterov momentum, "momentum" is SGD with plain momentum.
     * @param beta1 adamw/lamb only
     * @param beta2 adamw/lamb only
     * @param eps adamw/lamb only
     * @param momentum sgd/nesterov/momentum only
     */
    public static Optimizer create(String name, ParamGroups groups, double weightDecay, double beta1, double beta2,
                                   double eps, double momentum) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "adamw" -> new AdamW(groups, beta1, beta2, eps, weightDecay);
            case "lamb" -> new Lamb(groups, beta1, beta2, eps, weightDecay);
            case "sgd", "nesterov" -> new Sgd(groups, momentum, weightDecay, true);
            case "momentum" -> new Sgd(groups, momentum, weightDecay, false);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'; valid names: " + String.join(", ", NAMES));
        };
    }
}
