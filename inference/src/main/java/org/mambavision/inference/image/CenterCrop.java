package org.mambavision.inference.image;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/** torchvision's CenterCrop: offsets round((in - out) / 2) (half to even), zero padding when the image is smaller. */
public final class CenterCrop implements Transform {
    private final int height, width;

    public CenterCrop(int size) { this(size, size); }

    public CenterCrop(int height, int width) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("CenterCrop: bad size " + height + "x" + width);
        this.height = height;
        this.width = width;
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        if (img.height() == height && img.width() == width) return img;
        return img.crop(offset(img.height(), height), offset(img.width(), width), height, width);
    }

    /** Python's int(round((in - out) / 2.0)). */
    static int offset(int in, int out) { return (int) Math.rint((in - out) / 2.0); }
}
