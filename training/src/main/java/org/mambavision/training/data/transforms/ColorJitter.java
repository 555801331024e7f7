package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;
import org.mambavision.training.data.Rng;

/**
 * torchvision's ColorJitter: factors brightness in [max(0, 1-b), 1+b], contrast and saturation likewise, hue shift
 * in [-h, h] (h <= 0.5); the four adjustments run in a random order. A zero argument disables that adjustment.
 * Saturation and hue need 3 channels and are skipped for grey images.
 */
public final class ColorJitter implements Transform {
    private final double brightness, contrast, saturation, hue;

    public ColorJitter(double brightness, double contrast, double saturation, double hue) {
        if (brightness < 0 || contrast < 0 || saturation < 0 || hue < 0 || hue > 0.5) {
            throw new IllegalArgumentException("ColorJitter: need brightness, contrast, saturation >= 0 and hue in [0, 0.5], got "
                    + brightness + ", " + contrast + ", " + saturation + ", " + hue);
        }
        this.brightness = brightness;
        this.contrast = contrast;
        this.saturation = saturation;
        this.hue = hue;
    }

    /** timm's color_jitter=x: brightness = contrast = saturation = x, no hue. */
    public static ColorJitter of(double strength) { return new ColorJitter(strength, strength, strength, 0); }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        int[] order = Rng.permutation(4, rng);
        double b = factor(brightness, rng), c = factor(contrast, rng), s = factor(saturation, rng);
        double h = hue > 0 ? Rng.uniform(rng, -hue, hue) : 0;
        for (int op : order) {
            switch (op) {
                case 0 -> { if (brightness > 0) PixelOps.blendConstant(img, 0f, (float) b); }
                case 1 -> { if (contrast > 0) adjustContrast(img, (float) c); }
                case 2 -> { if (saturation > 0 && img.channels() == 3) PixelOps.blend(img, PixelOps.grey(img), true, (float) s); }
                default -> { if (hue > 0 && img.channels() == 3) adjustHue(img, (float) h); }
            }
        }
        return img;
    }

    private static double factor(double v, SplittableRandom rng) {
        return v > 0 ? Rng.uniform(rng, Math.max(0, 1 - v), 1 + v) : 1;
    }

    static void adjustContrast(Image img, float factor) {
        float[] g = PixelOps.grey(img);
        double sum = 0;
        for (float v : g) sum += v;
        PixelOps.blendConstant(img, (float) (sum / g.length), factor);
    }

    /** Rotates hue by {@code shift} turns through HSV, in place. */
    static void adjustHue(Image img, float shift) {
        float[] d = img.data();
        int n = img.planeSize();
        for (int i = 0; i < n; i++) {
            float r = d[i], g = d[n + i], b = d[2 * n + i];
            float max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b)), delta = max - min;
            if (delta <= 0) continue; // grey: hue undefined, unchanged
            float s = delta / max, v = max, hh;
            if (max == r) hh = ((g - b) / delta) / 6f;
            else if (max == g) hh = (2f + (b - r) / delta) / 6f;
            else hh = (4f + (r - g) / delta) / 6f;
            hh += shift;
            hh -= (float) Math.floor(hh);
            float h6 = hh * 6f;
            int sector = Math.min(5, (int) h6);
            float f = h6 - sector, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            float nr, ng, nb;
            switch (sector) {
                case 0 -> { nr = v; ng = t; nb = p; }
                case 1 -> { nr = q; ng = v; nb = p; }
                case 2 -> { nr = p; ng = v; nb = t; }
                case 3 -> { nr = p; ng = q; nb = v; }
                case 4 -> { nr = t; ng = p; nb = v; }
                default -> { nr = v; ng = p; nb = q; }
            }
            d[i] = nr;
            d[n + i] = ng;
            d[2 * n + i] = nb;
        }
    }
}
