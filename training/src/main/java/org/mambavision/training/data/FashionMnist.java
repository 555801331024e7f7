package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mambavision.inference.image.Resample;

/**
 * Fashion-MNIST from its IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte, optionally .gz). 28x28 grey,
 * resized (Pillow-style bilinear) to the configured size and repeated to 3 channels when asked.
 * Default location: where Debian's {@code dataset-fashion-mnist} package installs them.
 */
public final class FashionMnist implements Dataset {
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final int SIDE = 28;

    private final byte[] pixels, labels;
    private final int count, imageSize, channels;
    private final boolean train;

    FashionMnist(byte[] pixels, byte[] labels, int imageSize, int channels, boolean train) {
        this.pixels = pixels;
        this.labels = labels;
        this.count = labels.length;
        this.imageSize = imageSize;
        this.channels = channels;
        this.train = train;
    }

    public static FashionMnist load(DataOptions o) throws IOException {
        Path dir = o.dataDir() != null ? o.dataDir() : DEFAULT_DIR;
        String prefix = o.train() ? "train" : "t10k";
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte", o.dataDir() == null);
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte", o.dataDir() == null);
        IdxFile images = IdxFile.read(imagesFile, 3), labels = IdxFile.read(labelsFile, 1);
        if (images.dims()[1] != SIDE || images.dims()[2] != SIDE) {
            throw new IOException(imagesFile + ": expected 28x28 images, got " + images.dims()[1] + "x" + images.dims()[2]);
        }
        if (images.dims()[0] != labels.dims()[0]) {
            throw new IOException(imagesFile + " has " + images.dims()[0] + " images but " + labelsFile + " has " + labels.dims()[0] + " labels");
        }
        for (byte l : labels.data()) {
            if ((l & 0xFF) >= CLASS_NAMES.size()) throw new IOException(labelsFile + ": label " + (l & 0xFF) + " out of range 0..9");
        }
        return new FashionMnist(images.data(), labels.data(), o.sizeOr(SIDE), o.channels(), o.train());
    }

    private static Path find(Path dir, String base, boolean isDefault) throws IOException {
        for (String name : new String[] {base, base + ".gz"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        String how = isDefault
                ? "install it with 'sudo apt-get install dataset-fashion-mnist' or pass data_dir (a folder with the IDX files)"
                : "check data_dir, or install the files with 'sudo apt-get install dataset-fashion-mnist' (they go to " + DEFAULT_DIR + ")";
        throw new DatasetNotFoundException("fashion-mnist: " + dir.resolve(base) + "[.gz] not found; " + how);
    }

    @Override public String name() { return "fashion-mnist(" + (train ? "train" : "test") + ")"; }

    @Override public int size() { return count; }

    @Override public int numClasses() { return CLASS_NAMES.size(); }

    @Override public List<String> classNames() { return CLASS_NAMES; }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        int n = SIDE * SIDE;
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (pixels[index * n + i] & 0xFF) / 255f;
        Image img = new Image(d, 1, SIDE, SIDE);
        if (imageSize != SIDE) {
            float[] r = Resample.resizeFloat(d, 1, SIDE, SIDE, imageSize, imageSize, Resample.Filter.BILINEAR);
            img = new Image(r, 1, imageSize, imageSize);
        }
        return new Sample(img.withChannels(channels), labels[index] & 0xFF);
    }
}
