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
        String n = normalise(name);
        try {
            return switch (n) {
                case "synthetic" -> new SyntheticDataset(opts);
                case "fake" -> new FakeDataset(opts);
                case "fashion-mnist" -> FashionMnist.load(opts);
                case "cifar10" -> Cifar.load(opts, false);
                case "cifar100" -> Cifar.load(opts, true);
                case "imagefolder" -> ImageFolder.load(opts);
                default -> throw new IllegalArgumentException("unknown dataset '" + name + "'; valid names: " + String.join(", ", NAMES));
            };
        } catch (IOException e) {
            throw new UncheckedIOException(n + ": " + e.getMessage(), e);
        }
    }

    /**
     * The number of classes {@link #create} would give, without reading the data: fixed for Fashion-MNIST and CIFAR,
     * the class folders of an image folder, {@code opts.numClasses()} for the generated datasets.
     */
    public static int numClasses(String name, DataOptions opts) {
        String n = normalise(name);
        try {
            return switch (n) {
                case "synthetic", "fake" -> opts.numClasses();
                case "fashion-mnist" -> FashionMnist.CLASS_NAMES.size();
                case "cifar10" -> Cifar.classes(false);
                case "cifar100" -> Cifar.classes(true);
                case "imagefolder" -> ImageFolder.numClasses(opts);
                default -> throw new IllegalArgumentException("unknown dataset '" + name + "'; valid names: " + String.join(", ", NAMES));
            };
        } catch (IOException e) {
            throw new UncheckedIOException(n + ": " + e.getMessage(), e);
        }
    }

    /** The canonical name of a dataset name or alias (case and '_' or '-' ignored); unknown names come back as given. */
    private static String normalise(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        return switch (n) {
            case "fakedata" -> "fake";
            case "fashionmnist" -> "fashion-mnist";
            case "cifar-10" -> "cifar10";
            case "cifar-100" -> "cifar100";
            case "image-folder", "folder" -> "imagefolder";
            default -> n;
        };
    }
}
