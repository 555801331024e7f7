package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;
import org.mambavision.inference.image.Normalize;

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;
import org.mambavision.training.data.Rng;

/**
 * timm's RandAugment ({@code rand-m9-mstd0.5-inc1} style): {@code layers} ops drawn with replacement from the op
 * list, each applied with probability 0.5 at a magnitude drawn from N(m, mstd) clipped to [0, 10] (uniform in [0, m]
 * when mstd is infinite). Level mappings follow timm's auto_augment.py; {@code increasing} selects its "inc1" op
 * variants (stronger with magnitude). Geometric ops use bilinear sampling and fill with the dataset mean colour.
 * Histogram ops work on 8-bit levels, as Pillow does.
 */
public final class RandAugment implements Transform {
    public enum Op { AUTO_CONTRAST, EQUALIZE, INVERT, ROTATE, POSTERIZE, SOLARIZE, SOLARIZE_ADD, COLOR, CONTRAST, BRIGHTNESS, SHARPNESS, SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y }

    private static final double LEVEL_DENOM = 10.0, TRANSLATE_PCT = 0.45;

    private final int layers;
    private final double magnitude, magnitudeStd, prob;
    private final boolean increasing;
    private final Op[] ops;
    private final float[] fill;

    /** All timm ops, probability 0.5 each, fill = ImageNet mean. */
    public RandAugment(int layers, double magnitude, double magnitudeStd, boolean increasing) {
        this(layers, magnitude, magnitudeStd, increasing, 0.5, List.of(Op.values()), Normalize.IMAGENET_MEAN);
    }

    public RandAugment(int layers, double magnitude, double magnitudeStd, boolean increasing, double prob, List<Op> ops, float[] fill) {
        if (layers < 0 || magnitude < 0 || magnitudeStd < 0 || prob < 0 || prob > 1 || ops.isEmpty()) {
            throw new IllegalArgumentException("RandAugment: bad arguments layers " + layers + ", m " + magnitude + ", mstd " + magnitudeStd + ", p " + prob + ", ops " + ops);
        }
        this.layers = layers;
        this.magnitude = magnitude;
        this.magnitudeStd = magnitudeStd;
        this.increasing = increasing;
        this.prob = prob;
        this.ops = ops.toArray(new Op[0]);
        this.fill = fill.clone();
    }

    /**
     * Parses a timm config string such as {@code rand-m9-mstd0.5-inc1} (keys m, n, mstd, inc, p; defaults n=2,
     * m=10, mstd=0, inc=0, p=0.5).
     */
    public static RandAugment parse(String spec) {
        String[] parts = spec.trim().toLowerCase(Locale.ROOT).split("-");
        if (parts.length == 0 || !parts[0].equals("rand")) throw new IllegalArgumentException("RandAugment: spec must start with 'rand-': " + spec);
        int n = 2;
        double m = 10, mstd = 0, p = 0.5;
        boolean inc = false;
        for (int i = 1; i < parts.length; i++) {
            String s = parts[i];
            try {
                if (s.startsWith("mstd")) mstd = Double.parseDouble(s.substring(4));
                else if (s.startsWith("inc")) inc = Integer.parseInt(s.substring(3)) != 0;
                else if (s.startsWith("m")) m = Double.parseDouble(s.substring(1));
                else if (s.startsWith("n")) n = Integer.parseInt(s.substring(1));
                else if (s.startsWith("p")) p = Double.parseDouble(s.substring(1));
                else throw new IllegalArgumentException("RandAugment: unknown key '" + s + "' in " + spec);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("RandAugment: bad number in '" + s + "' of " + spec, e);
            }
        }
        return new RandAugment(n, m, mstd, inc, p, List.of(Op.values()), Normalize.IMAGENET_MEAN);
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        for (int i = 0; i < layers; i++) {
            Op op = ops[rng.nextInt(ops.length)];
            if (prob < 1 && rng.nextDouble() > prob) continue;
            double mag = magnitude;
            if (Double.isInfinite(magnitudeStd)) mag = Rng.uniform(rng, 0, magnitude);
            else if (magnitudeStd > 0) mag = magnitude + magnitudeStd * Rng.gaussian(rng);
            mag = Math.max(0, Math.min(LEVEL_DENOM, mag));
            img = apply(op, img, mag / LEVEL_DENOM, rng);
        }
        return img;
    }

    /** Applies one op at a normalised level in [0, 1]. */
    Image apply(Op op, Image img, double level, SplittableRandom rng) {
        return switch (op) {
            case AUTO_CONTRAST -> lut(img, autoContrastLuts(img));
            case EQUALIZE -> lut(img, equalizeLuts(img));
            case INVERT -> lut(img, sameLut(img, i -> 255 - i));
            case ROTATE -> PixelOps.affine(img, PixelOps.rotation(negate(level * 30, rng), img.height(), img.width()), true, fill(img));
            case POSTERIZE -> {
                int bits = increasing ? 4 - (int) (level * 4) : (int) (level * 4);
                if (bits >= 8) yield img;
                int mask = ~((1 << (8 - bits)) - 1);
                yield lut(img, sameLut(img, i -> i & mask));
            }
            case SOLARIZE -> {
                int thresh = increasing ? 256 - (int) (level * 256) : (int) (level * 256);
                yield lut(img, sameLut(img, i -> i < thresh ? i : 255 - i));
            }
            case SOLARIZE_ADD -> {
                int add = (int) (level * 110);
                yield lut(img, sameLut(img, i -> i < 128 ? Math.min(255, i + add) : i));
            }
            case COLOR -> {
                if (img.channels() == 3) PixelOps.blend(img, PixelOps.grey(img), true, enhanceFactor(level, rng));
                yield img;
            }
            case CONTRAST -> {
                float[] g = PixelOps.grey(img);
                double sum = 0;
                for (float v : g) sum += v;
                // PIL: degenerate = int(mean of L + 0.5)
                float mean = (float) Math.floor(sum / g.length * 255 + 0.5) / 255f;
                PixelOps.blendConstant(img, mean, enhanceFactor(level, rng));
                yield img;
            }
            case BRIGHTNESS -> {
                PixelOps.blendConstant(img, 0f, enhanceFactor(level, rng));
                yield img;
            }
            case SHARPNESS -> {
                PixelOps.blend(img, smooth(img), false, enhanceFactor(level, rng));
                yield img;
            }
            case SHEAR_X -> PixelOps.affine(img, new double[] {1, negate(level * 0.3, rng), 0, 0, 1, 0}, true, fill(img));
            case SHEAR_Y -> PixelOps.affine(img, new double[] {1, 0, 0, negate(level * 0.3, rng), 1, 0}, true, fill(img));
            case TRANSLATE_X -> PixelOps.affine(img, new double[] {1, 0, negate(level * TRANSLATE_PCT, rng) * img.width(), 0, 1, 0}, true, fill(img));
            case TRANSLATE_Y -> PixelOps.affine(img, new double[] {1, 0, 0, 0, 1, negate(level * TRANSLATE_PCT, rng) * img.height()}, true, fill(img));
        };
    }

    private static double negate(double v, SplittableRandom rng) { return rng.nextDouble() > 0.5 ? -v : v; }

    /** timm: increasing variant max(0.1, 1 + ±0.9 level); otherwise 0.1 + 1.8 level. */
    private float enhanceFactor(double level, SplittableRandom rng) {
        return (float) (increasing ? Math.max(0.1, 1.0 + negate(level * 0.9, rng)) : level * 1.8 + 0.1);
    }

    private float[] fill(Image img) {
        float[] f = new float[img.channels()];
        for (int c = 0; c < f.length; c++) f[c] = img.channels() == fill.length ? fill[c] : fill[0];
        return f;
    }

    private static int[][] sameLut(Image img, java.util.function.IntUnaryOperator f) {
        int[] l = new int[256];
        for (int i = 0; i < 256; i++) l[i] = f.applyAsInt(i);
        int[][] luts = new int[img.channels()][];
        java.util.Arrays.fill(luts, l);
        return luts;
    }

    private static Image lut(Image img, int[][] luts) {
        float[] d = img.data();
        int n = img.planeSize();
        for (int c = 0; c < img.channels(); c++) {
            int[] l = luts[c];
            for (int i = c * n, e = i + n; i < e; i++) d[i] = l[PixelOps.toLevel(d[i])] / 255f;
        }
        return img;
    }

    private static int[][] histograms(Image img) {
        float[] d = img.data();
        int n = img.planeSize();
        int[][] h = new int[img.channels()][256];
        for (int c = 0; c < img.channels(); c++) for (int i = c * n, e = i + n; i < e; i++) h[c][PixelOps.toLevel(d[i])]++;
        return h;
    }

    /** PIL ImageOps.autocontrast(cutoff=0). */
    private static int[][] autoContrastLuts(Image img) {
        int[][] hist = histograms(img), luts = new int[hist.length][256];
        for (int c = 0; c < hist.length; c++) {
            int lo = 0, hi = 255;
            while (lo < 256 && hist[c][lo] == 0) lo++;
            while (hi >= 0 && hist[c][hi] == 0) hi--;
            for (int i = 0; i < 256; i++) {
                if (hi <= lo) {
                    luts[c][i] = i;
                } else {
                    double scale = 255.0 / (hi - lo), offset = -lo * scale;
                    luts[c][i] = Math.max(0, Math.min(255, (int) (i * scale + offset)));
                }
            }
        }
        return luts;
    }

    /** PIL ImageOps.equalize. */
    private static int[][] equalizeLuts(Image img) {
        int[][] hist = histograms(img), luts = new int[hist.length][256];
        for (int c = 0; c < hist.length; c++) {
            int[] h = hist[c];
            int total = 0, last = 0, nonZero = 0;
            for (int v : h) if (v != 0) { total += v; last = v; nonZero++; }
            int step = nonZero <= 1 ? 0 : (total - last) / 255;
            if (step == 0) {
                for (int i = 0; i < 256; i++) luts[c][i] = i;
                continue;
            }
            int acc = step / 2;
            for (int i = 0; i < 256; i++) {
                luts[c][i] = Math.min(255, acc / step);
                acc += h[i];
            }
        }
        return luts;
    }

    /** PIL's ImageFilter.SMOOTH (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, /13); border pixels unchanged. */
    private static float[] smooth(Image img) {
        int h = img.height(), w = img.width(), n = h * w;
        float[] s = img.data(), o = s.clone();
        for (int c = 0; c < img.channels(); c++) {
            int p = c * n;
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    int i = p + y * w + x;
                    float sum = s[i - w - 1] + s[i - w] + s[i - w + 1] + s[i - 1] + 5 * s[i] + s[i + 1] + s[i + w - 1] + s[i + w] + s[i + w + 1];
                    o[i] = sum / 13f;
                }
            }
        }
        return o;
    }
}
