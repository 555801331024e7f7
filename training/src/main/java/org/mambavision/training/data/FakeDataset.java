package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

import java.util.List;
import java.util.SplittableRandom;

/** Uniform random pixels and random labels (like torchvision's FakeData), a function of (seed, index). Not learnable. */
public final class FakeDataset implements Dataset {
    private final int size, numClasses, channels, imageSize;
    private final long seed;

    public FakeDataset(DataOptions o) {
        this(o.size(), o.numClasses(), o.sizeOr(32), o.channels(), o.seed());
    }

    public FakeDataset(int size, int numClasses, int imageSize, int channels, long seed) {
        if (numClasses < 1 || size < 0 || imageSize < 1) throw new IllegalArgumentException("fake: bad size " + size + ", classes " + numClasses + ", image " + imageSize);
        this.size = size;
        this.numClasses = numClasses;
        this.channels = channels;
        this.imageSize = imageSize;
        this.seed = seed;
    }

    @Override public String name() { return "fake"; }

    @Override public int size() { return size; }

    @Override public int numClasses() { return numClasses; }

    @Override public List<String> classNames() { return Dataset.indexNames(numClasses); }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        SplittableRandom r = Rng.of(seed, 0xFA4E, index);
        int label = r.nextInt(numClasses);
        float[] d = new float[channels * imageSize * imageSize];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextDouble();
        return new Sample(new Image(d, channels, imageSize, imageSize), label);
    }
}
