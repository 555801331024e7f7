package org.mambavision.training.data;

import org.mambavision.inference.image.Image;

/** One labelled image. */
public record Sample(Image image, int label) {
    public float[] chw() { return image.data(); }

    public int channels() { return image.channels(); }

    public int height() { return image.height(); }

    public int width() { return image.width(); }
}
