package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mambavision.inference.image.Resample;

/**
 * CIFAR-10 / CIFAR-100 in the binary format. CIFAR-10: data_batch_1..5.bin / test_batch.bin, records of 1 label
 * byte + 3072 pixel bytes (R, G, B planes of 32x32). CIFAR-100: train.bin / test.bin, records of coarse + fine
 * label bytes + 3072 pixel bytes; the fine label is used. data_dir may be the folder with the .bin files or its
 * parent (cifar-10-batches-bin / cifar-100-binary inside).
 */
public final class Cifar implements Dataset {
    private static final int SIDE = 32, PIXELS = 3 * SIDE * SIDE;

    private final String name;
    private final byte[] records;
    private final int recordSize, labelOffset, count, numClasses, imageSize, channels;
    private final List<String> classNames;

    private Cifar(String name, byte[] records, int recordSize, int labelOffset, int numClasses, List<String> classNames, int imageSize, int channels) {
        this.name = name;
        this.records = records;
        this.recordSize = recordSize;
        this.labelOffset = labelOffset;
        this.count = records.length / recordSize;
        this.numClasses = numClasses;
        this.classNames = classNames;
        this.imageSize = imageSize;
        this.channels = channels;
    }

    /** 100 fine classes for CIFAR-100, 10 for CIFAR-10. */
    public static int classes(boolean cifar100) {
        return cifar100 ? 100 : 10;
    }

    public static Cifar load(DataOptions o, boolean cifar100) throws IOException {
        String ds = cifar100 ? "cifar100" : "cifar10";
        if (o.dataDir() == null) {
            throw new DatasetNotFoundException(ds + ": pass data_dir, a folder with the binary version from https://www.cs.toronto.edu/~kriz/cifar.html ("
                    + (cifar100 ? "cifar-100-binary.tar.gz" : "cifar-10-binary.tar.gz") + ", extracted)");
        }
        String marker = cifar100 ? "train.bin" : "data_batch_1.bin";
        Path dir = o.dataDir();
        if (!Files.isRegularFile(dir.resolve(marker))) {
            Path sub = dir.resolve(cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin");
            if (Files.isRegularFile(sub.resolve(marker))) dir = sub;
        }
        List<String> files = new ArrayList<>();
        if (cifar100) files.add(o.train() ? "train.bin" : "test.bin");
        else if (o.train()) for (int i = 1; i <= 5; i++) files.add("data_batch_" + i + ".bin");
        else files.add("test_batch.bin");
        int recordSize = PIXELS + (cifar100 ? 2 : 1), labelOffset = cifar100 ? 1 : 0, numClasses = classes(cifar100);
        byte[][] parts = new byte[files.size()][];
        long total = 0;
        for (int i = 0; i < files.size(); i++) {
            Path p = dir.resolve(files.get(i));
            if (!Files.isRegularFile(p)) {
                throw new DatasetNotFoundException(ds + ": " + p + " not found; data_dir must hold the binary version from https://www.cs.toronto.edu/~kriz/cifar.html");
            }
            byte[] b = Files.readAllBytes(p);
            if (b.length == 0 || b.length % recordSize != 0) {
                throw new IOException(p + ": size " + b.length + " is not a multiple of the " + recordSize + "-byte " + ds + " record");
            }
            for (int r = 0; r < b.length; r += recordSize) {
                int label = b[r + labelOffset] & 0xFF;
                if (label >= numClasses) throw new IOException(p + ": record " + (r / recordSize) + " has label " + label + " >= " + numClasses);
            }
            parts[i] = b;
            total += b.length;
        }
        if (total > Integer.MAX_VALUE - 16) throw new IOException(ds + ": files too large");
        byte[] all = new byte[(int) total];
        int off = 0;
        for (byte[] b : parts) {
            System.arraycopy(b, 0, all, off, b.length);
            off += b.length;
        }
        List<String> names = readNames(dir.resolve(cifar100 ? "fine_label_names.txt" : "batches.meta.txt"), numClasses);
        return new Cifar(ds + "(" + (o.train() ? "train" : "test") + ")", all, recordSize, labelOffset, numClasses, names, o.sizeOr(SIDE), o.channels());
    }

    /** Non-blank lines of the names file when it has exactly {@code n} of them, else "0".."n-1". */
    private static List<String> readNames(Path file, int n) throws IOException {
        if (!Files.isRegularFile(file)) return Dataset.indexNames(n);
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) names.add(line.trim());
        return names.size() == n ? List.copyOf(names) : Dataset.indexNames(n);
    }

    @Override public String name() { return name; }

    @Override public int size() { return count; }

    @Override public int numClasses() { return numClasses; }

    @Override public List<String> classNames() { return classNames; }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        int base = index * recordSize;
        float[] d = new float[PIXELS];
        for (int i = 0; i < PIXELS; i++) d[i] = (records[base + recordSize - PIXELS + i] & 0xFF) / 255f;
        Image img = new Image(d, 3, SIDE, SIDE);
        if (imageSize != SIDE) {
            img = new Image(Resample.resizeFloat(d, 3, SIDE, SIDE, imageSize, imageSize, Resample.Filter.BILINEAR), 3, imageSize, imageSize);
        }
        return new Sample(img.withChannels(channels), records[base + labelOffset] & 0xFF);
    }
}
