package org.mambavision.training.data;

import java.nio.file.Path;
import org.mambavision.inference.image.Images;

/**
 * What {@link Datasets#create} needs to build a dataset. Fields a dataset does not use are ignored.
 *
 * @param dataDir      where the files are (null: the dataset's default location, if it has one)
 * @param train        train split (true) or test/validation split (false)
 * @param imageSize    output height and width (0: the dataset's native size; ignored by imagefolder, whose sizes vary)
 * @param channels     1 (grey) or 3 (RGB)
 * @param size         number of samples (synthetic, fake)
 * @param numClasses   number of classes (synthetic, fake)
 * @param seed         base seed (synthetic, fake)
 * @param verifyImages imagefolder: check each file's header when indexing (one small read per file)
 * @param maxImagePixels imagefolder: images declaring more pixels than this in their header are skipped undecoded
 */
public record DataOptions(Path dataDir, boolean train, int imageSize, int channels, int size, int numClasses, long seed,
                          boolean verifyImages, long maxImagePixels) {
    public DataOptions(Path dataDir, boolean train, int imageSize, int channels, int size, int numClasses, long seed, boolean verifyImages) {
        this(dataDir, train, imageSize, channels, size, numClasses, seed, verifyImages, Images.DEFAULT_MAX_PIXELS);
    }

    public DataOptions {
        if (maxImagePixels <= 0) throw new IllegalArgumentException("DataOptions: maxImagePixels must be > 0, got " + maxImagePixels);
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("DataOptions: channels must be 1 or 3, got " + channels);
        if (imageSize < 0) throw new IllegalArgumentException("DataOptions: imageSize must be >= 0, got " + imageSize);
        if (size < 0) throw new IllegalArgumentException("DataOptions: size must be >= 0, got " + size);
        if (numClasses < 1) throw new IllegalArgumentException("DataOptions: numClasses must be >= 1, got " + numClasses);
    }

    /** Train split, native image size, 3 channels, 1000 samples, 10 classes, seed 0, header check on. */
    public static DataOptions defaults() {
        return new DataOptions(null, true, 0, 3, 1000, 10, 0L, true);
    }

    public DataOptions withDataDir(Path d) { return new DataOptions(d, train, imageSize, channels, size, numClasses, seed, verifyImages, maxImagePixels); }

    public DataOptions withTrain(boolean t) { return new DataOptions(dataDir, t, imageSize, channels, size, numClasses, seed, verifyImages, maxImagePixels); }

    public DataOptions withImageSize(int s) { return new DataOptions(dataDir, train, s, channels, size, numClasses, seed, verifyImages, maxImagePixels); }

    public DataOptions withChannels(int c) { return new DataOptions(dataDir, train, imageSize, c, size, numClasses, seed, verifyImages, maxImagePixels); }

    public DataOptions withSize(int n) { return new DataOptions(dataDir, train, imageSize, channels, n, numClasses, seed, verifyImages, maxImagePixels); }

    public DataOptions withNumClasses(int k) { return new DataOptions(dataDir, train, imageSize, channels, size, k, seed, verifyImages, maxImagePixels); }

    public DataOptions withSeed(long s) { return new DataOptions(dataDir, train, imageSize, channels, size, numClasses, s, verifyImages, maxImagePixels); }

    public DataOptions withMaxImagePixels(long p) { return new DataOptions(dataDir, train, imageSize, channels, size, numClasses, seed, verifyImages, p); }

    public DataOptions withVerifyImages(boolean v) { return new DataOptions(dataDir, train, imageSize, channels, size, numClasses, seed, v, maxImagePixels); }

    /** imageSize, or {@code nativeSize} when imageSize is 0. */
    int sizeOr(int nativeSize) { return imageSize > 0 ? imageSize : nativeSize; }
}
