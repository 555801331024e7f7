package org.mambavision.inference.image;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/** (x - mean[c]) / std[c] per channel, in place. */
public final class Normalize implements Transform {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    private final float[] mean, invStd;

    public Normalize(float[] mean, float[] std) {
        if (mean.length != std.length || mean.length == 0) throw new IllegalArgumentException("Normalize: mean has " + mean.length + " values, std " + std.length);
        this.mean = mean.clone();
        this.invStd = new float[std.length];
        for (int i = 0; i < std.length; i++) {
            if (!(std[i] > 0)) throw new IllegalArgumentException("Normalize: std must be > 0, got " + std[i]);
            invStd[i] = 1f / std[i];
        }
    }

    public static Normalize imagenet() { return new Normalize(IMAGENET_MEAN, IMAGENET_STD); }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        int c = img.channels();
        if (c != mean.length && mean.length != 1) throw new IllegalArgumentException("Normalize: " + mean.length + " means for an image with " + c + " channels");
        float[] d = img.data();
        int n = img.planeSize();
        for (int ch = 0; ch < c; ch++) {
            float m = mean[mean.length == 1 ? 0 : ch], s = invStd[mean.length == 1 ? 0 : ch];
            for (int i = ch * n, e = i + n; i < e; i++) d[i] = (d[i] - m) * s;
        }
        return img;
    }
}
