package org.mambavision.training.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/** Builds a dataset by name. */
public final class Datasets {
    private Datasets() {}

    public static final List<String> NAMES = List.of("synthetic", "fake", "fashion-mnist", "cifar10", "cifar100", "imagefolder");

    /**
     * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or a missing data directory
     * @throws UncheckedIOException     when the files exist but cannot be read or are malformed
     */
    public static Dataset create(String name, DataOptions opts) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        try {
            return switch (n) {
                case "synthetic" -> new SyntheticDataset(opts);
                case "fake", "fakedata" -> new FakeDataset(opts);
                case "fashion-mnist", "fashionmnist" -> FashionMnist.load(opts);
                case "cifar10", "cifar-10" -> Cifar.load(opts, false);
                case "cifar100", "cifar-100" -> Cifar.load(opts, true);
                case "imagefolder", "image-folder", "folder" -> ImageFolder.load(opts);
                default -> throw new IllegalArgumentException("unknown dataset '" + name + "'; valid names: " + String.join(", ", NAMES));
            };
        } catch (IOException e) {
            throw new UncheckedIOException(n + ": " + e.getMessage(), e);
        }
    }
}
