package org.mambavision.inference.image;

import java.util.Arrays;

/**
 * A float image in channel-major (CHW) layout. Before {@code Normalize} the values are in [0, 1].
 *
 * <p>Transforms may modify {@link #data} in place; datasets return a fresh image from every {@code get}.
 */
public record Image(float[] data, int channels, int height, int width) {
    public Image {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("Image: bad shape " + channels + "x" + height + "x" + width);
        }
        if (data.length != channels * height * width) {
            throw new IllegalArgumentException("Image: data length " + data.length + " != " + channels + "x" + height + "x" + width);
        }
    }

    public static Image zeros(int channels, int height, int width) {
        return new Image(new float[channels * height * width], channels, height, width);
    }

    /** Wraps 8-bit planar values (CHW, 0..255) as a float image in [0, 1]. */
    public static Image fromU8Planes(byte[] planes, int channels, int height, int width) {
        float[] d = new float[planes.length];
        for (int i = 0; i < d.length; i++) d[i] = (planes[i] & 0xFF) / 255f;
        return new Image(d, channels, height, width);
    }

    public int planeSize() { return height * width; }

    public float get(int c, int y, int x) { return data[(c * height + y) * width + x]; }

    public void set(int c, int y, int x, float v) { data[(c * height + y) * width + x] = v; }

    /**
     * The {@code h x w} window at (top, left); parts outside the image are zero (torchvision's CenterCrop pads
     * with zeros when the image is smaller than the crop).
     */
    public Image crop(int top, int left, int h, int w) {
        int c = channels, ih = height, iw = width;
        float[] s = data, o = new float[c * h * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int sy = top + y;
                if (sy < 0 || sy >= ih) continue;
                for (int x = 0; x < w; x++) {
                    int sx = left + x;
                    if (sx >= 0 && sx < iw) o[(ch * h + y) * w + x] = s[(ch * ih + sy) * iw + sx];
                }
            }
        }
        return new Image(o, c, h, w);
    }

    public Image copy() { return new Image(data.clone(), channels, height, width); }

    /** Channels converted: 1 -> 3 repeats the grey plane, 3 -> 1 uses ITU-R 601 luma (like PIL's convert("L")). */
    public Image withChannels(int target) {
        if (target == channels) return this;
        int n = planeSize();
        if (channels == 1 && target == 3) {
            float[] d = new float[3 * n];
            for (int c = 0; c < 3; c++) System.arraycopy(data, 0, d, c * n, n);
            return new Image(d, 3, height, width);
        }
        if (channels == 3 && target == 1) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = 0.299f * data[i] + 0.587f * data[n + i] + 0.114f * data[2 * n + i];
            return new Image(d, 1, height, width);
        }
        throw new IllegalArgumentException("Image: cannot convert " + channels + " channels to " + target);
    }

    public String shapeString() { return channels + "x" + height + "x" + width; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Image im && im.channels == channels && im.height == height && im.width == width && Arrays.equals(im.data, data);
    }

    @Override
    public int hashCode() { return 31 * Arrays.hashCode(data) + channels * 7 + height * 3 + width; }

    @Override
    public String toString() { return "Image[" + shapeString() + "]"; }
}
