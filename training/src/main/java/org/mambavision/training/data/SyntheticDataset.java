package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A learnable toy dataset. Each class has a fixed pattern drawn from a seeded generator: oriented colour stripes
 * of a class-specific frequency plus a coloured blob. A sample is its class pattern shifted by a few pixels, with
 * a small contrast change and Gaussian pixel noise. Everything is a function of (seed, index), so samples can be
 * generated in any order on any thread. Label = index mod numClasses (balanced).
 */
public final class SyntheticDataset implements Dataset {
    private final int size, numClasses, channels, height, width;
    private final long seed;
    private final float noise;
    private final ClassPattern[] patterns;

    private record ClassPattern(double cos, double sin, double freq, double phase, float[] stripeColour, float[] base,
                                double blobY, double blobX, double blobRadius, float[] blobColour) {}

    public SyntheticDataset(DataOptions o) {
        this(o.size(), o.numClasses(), o.sizeOr(32), o.channels(), o.seed(), 0.1f);
    }

    public SyntheticDataset(int size, int numClasses, int imageSize, int channels, long seed, float noise) {
        if (numClasses < 1 || size < 0 || imageSize < 4) throw new IllegalArgumentException("synthetic: bad size " + size + ", classes " + numClasses + ", image " + imageSize);
        this.size = size;
        this.numClasses = numClasses;
        this.channels = channels;
        this.height = imageSize;
        this.width = imageSize;
        this.seed = seed;
        this.noise = noise;
        this.patterns = new ClassPattern[numClasses];
        for (int k = 0; k < numClasses; k++) {
            SplittableRandom r = Rng.of(seed, 0x5EED, k);
            // Spread orientations evenly so neighbouring classes differ, then jitter.
            double theta = Math.PI * (k + 0.3 * r.nextDouble()) / numClasses;
            double freq = 1.5 + 2.0 * r.nextDouble(); // cycles per image
            float[] stripe = new float[channels], base = new float[channels], blob = new float[channels];
            for (int c = 0; c < channels; c++) {
                stripe[c] = (float) Rng.uniform(r, 0.15, 0.35);
                base[c] = (float) Rng.uniform(r, 0.3, 0.7);
                blob[c] = (float) Rng.uniform(r, -0.3, 0.3);
            }
            patterns[k] = new ClassPattern(Math.cos(theta), Math.sin(theta), freq, 2 * Math.PI * r.nextDouble(), stripe, base,
                    Rng.uniform(r, 0.25, 0.75), Rng.uniform(r, 0.25, 0.75), Rng.uniform(r, 0.12, 0.25), blob);
        }
    }

    @Override public String name() { return "synthetic"; }

    @Override public int size() { return size; }

    @Override public int numClasses() { return numClasses; }

    @Override public List<String> classNames() { return Dataset.indexNames(numClasses); }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        int label = index % numClasses;
        ClassPattern p = patterns[label];
        SplittableRandom r = Rng.of(seed, 0xDA7A, index);
        int maxShift = Math.max(1, width / 16);
        int dy = r.nextInt(2 * maxShift + 1) - maxShift, dx = r.nextInt(2 * maxShift + 1) - maxShift;
        float contrast = (float) Rng.uniform(r, 0.8, 1.2);
        float[] d = new float[channels * height * width];
        double r2 = p.blobRadius * p.blobRadius;
        for (int y = 0; y < height; y++) {
            double v = (y - dy + 0.5) / height;
            for (int x = 0; x < width; x++) {
                double u = (x - dx + 0.5) / width;
                float stripe = (float) Math.sin(2 * Math.PI * p.freq * (u * p.cos + v * p.sin) + p.phase);
                double dv = v - p.blobY, du = u - p.blobX;
                float blob = (float) Math.exp(-(du * du + dv * dv) / r2);
                for (int c = 0; c < channels; c++) {
                    float val = p.base[c] + contrast * (p.stripeColour[c] * stripe + p.blobColour[c] * blob) + noise * (float) Rng.gaussian(r);
                    d[(c * height + y) * width + x] = Math.min(1f, Math.max(0f, val));
                }
            }
        }
        return new Sample(new Image(d, channels, height, width), label);
    }
}
