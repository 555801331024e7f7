package org.mambavision.inference.image;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/**
 * Resize with Pillow's antialiased filters ({@link Resample}). {@code Resize(size)} sets the shorter side (torchvision
 * semantics); {@code Resize(h, w)} sets both. Output is clamped to [0, 1], as Pillow's 8-bit path clips.
 */
public final class Resize implements Transform {
    private final int size, height, width;
    private final Resample.Filter filter;

    /** Shorter side to {@code size}, aspect ratio kept. */
    public Resize(int size, Resample.Filter filter) {
        if (size <= 0) throw new IllegalArgumentException("Resize: size must be > 0, got " + size);
        this.size = size;
        this.height = -1;
        this.width = -1;
        this.filter = filter;
    }

    public Resize(int height, int width, Resample.Filter filter) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("Resize: bad size " + height + "x" + width);
        this.size = -1;
        this.height = height;
        this.width = width;
        this.filter = filter;
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        int[] hw = size > 0 ? Resample.shorterSideSize(img.height(), img.width(), size) : new int[] {height, width};
        return resize(img, hw[0], hw[1], filter);
    }

    public static Image resize(Image img, int outH, int outW, Resample.Filter filter) {
        if (outH == img.height() && outW == img.width()) return img;
        float[] d = Resample.resizeFloat(img.data(), img.channels(), img.height(), img.width(), outH, outW, filter);
        for (int i = 0; i < d.length; i++) d[i] = Math.clamp(d[i], 0f, 1f);
        return new Image(d, img.channels(), outH, outW);
    }
}
