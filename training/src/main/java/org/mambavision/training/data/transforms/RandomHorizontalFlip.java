package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/** Mirrors left-right with probability p (in place). */
public final class RandomHorizontalFlip implements Transform {
    private final double p;

    public RandomHorizontalFlip(double p) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("RandomHorizontalFlip: p must be in [0, 1], got " + p);
        this.p = p;
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        if (rng.nextDouble() >= p) return img;
        float[] d = img.data();
        int w = img.width();
        for (int row = 0; row < img.channels() * img.height(); row++) {
            for (int a = row * w, b = a + w - 1; a < b; a++, b--) {
                float t = d[a];
                d[a] = d[b];
                d[b] = t;
            }
        }
        return img;
    }
}
