package org.mambavision.engine.bench;

import java.util.Locale;

/** One benchmark figure: {@code value} in {@code unit} for an op at a shape. */
public record BenchRow(String name, String shape, double value, String unit) {
    public String toJson() {
        return String.format(Locale.ROOT, "{\"name\":\"%s\",\"shape\":\"%s\",\"value\":%.4f,\"unit\":\"%s\"}", name, shape, value, unit);
    }

    public String toText() {
        return String.format(Locale.ROOT, "%-14s %-28s %12.2f %s", name, shape, value, unit);
    }
}
