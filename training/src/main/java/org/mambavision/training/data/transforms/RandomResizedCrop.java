package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;
import org.mambavision.inference.image.Resample;
import org.mambavision.inference.image.Resize;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/**
 * torchvision's RandomResizedCrop: up to 10 tries of a random area fraction in {@code scale} and log-uniform aspect
 * ratio in {@code ratio}; if none fits, a central crop clamped to the ratio range. The crop is resized to size x size.
 */
public final class RandomResizedCrop implements Transform {
    private final int size;
    private final double scaleLo, scaleHi, logRatioLo, logRatioHi, ratioLo, ratioHi;
    private final Resample.Filter filter;

    /** Defaults: scale (0.08, 1), ratio (3/4, 4/3), bicubic. */
    public RandomResizedCrop(int size) { this(size, 0.08, 1.0, 3.0 / 4, 4.0 / 3, Resample.Filter.BICUBIC); }

    public RandomResizedCrop(int size, double scaleLo, double scaleHi, double ratioLo, double ratioHi, Resample.Filter filter) {
        if (size <= 0 || scaleLo <= 0 || scaleHi < scaleLo || ratioLo <= 0 || ratioHi < ratioLo) {
            throw new IllegalArgumentException("RandomResizedCrop: bad arguments size " + size + ", scale (" + scaleLo + ", " + scaleHi + "), ratio (" + ratioLo + ", " + ratioHi + ")");
        }
        this.size = size;
        this.scaleLo = scaleLo;
        this.scaleHi = scaleHi;
        this.ratioLo = ratioLo;
        this.ratioHi = ratioHi;
        this.logRatioLo = Math.log(ratioLo);
        this.logRatioHi = Math.log(ratioHi);
        this.filter = filter;
    }

    /** {top, left, height, width} of the crop for an image of the given size. */
    public int[] cropBox(int height, int width, SplittableRandom rng) {
        double area = (double) height * width;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (scaleLo + (scaleHi - scaleLo) * rng.nextDouble());
            double aspect = Math.exp(logRatioLo + (logRatioHi - logRatioLo) * rng.nextDouble());
            int w = (int) Math.rint(Math.sqrt(target * aspect));
            int h = (int) Math.rint(Math.sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1), left = rng.nextInt(width - w + 1);
                return new int[] {top, left, h, w};
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < ratioLo) {
            w = width;
            h = (int) Math.rint(w / ratioLo);
        } else if (inRatio > ratioHi) {
            h = height;
            w = (int) Math.rint(h * ratioHi);
        } else {
            w = width;
            h = height;
        }
        return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        int[] b = cropBox(img.height(), img.width(), rng);
        Image crop = img.crop(b[0], b[1], b[2], b[3]);
        return Resize.resize(crop, size, size, filter);
    }
}
