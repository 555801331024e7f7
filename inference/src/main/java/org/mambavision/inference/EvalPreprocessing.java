package org.mambavision.inference;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;
import org.mambavision.inference.image.Images;
import org.mambavision.inference.image.Normalize;
import org.mambavision.inference.image.Resample;
import org.mambavision.inference.image.Resize;
import org.mambavision.inference.image.Transform;
import org.mambavision.models.VisionModel;

/**
 * How a model's input is prepared for evaluation and prediction: the one implementation used by the official
 * weights, by a training run's validation loader, by {@code eval} and by {@link Predictor}.
 *
 * <p>With {@code cropPct > 0} (timm's evaluation transform): the shorter side is resized to
 * floor(size / crop_pct), then the center size x size is cropped. With {@code cropPct == 0} the image is resized to
 * size x size directly (datasets generated at a fixed size: synthetic, Fashion-MNIST, CIFAR). Then /255 and
 * (x - mean) / std per channel.
 *
 * <p>Two entry points, the same steps: {@link #apply(BufferedImage)} resizes the decoded 8-bit pixels with Pillow's
 * 8-bit arithmetic (so official checkpoints see exactly what timm + Pillow feed them); {@link #transform()} works on
 * float images, as the training loader's samples are.
 *
 * @param channels 1 (luma, PIL "L") or 3 (RGB)
 * @param size     output height and width
 * @param cropPct  center-crop fraction, or 0 for a direct resize
 */
public record EvalPreprocessing(int channels, int size, double cropPct, Resample.Filter filter, float[] mean, float[] std) {
    public EvalPreprocessing {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("preprocessing: channels must be 1 or 3, got " + channels);
        if (size <= 0) throw new IllegalArgumentException("preprocessing: size must be > 0, got " + size);
        if (!(cropPct == 0 || (cropPct > 0 && cropPct <= 1.5))) throw new IllegalArgumentException("preprocessing: crop_pct must be in (0, 1.5] or 0, got " + cropPct);
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("preprocessing: " + mean.length + " means and " + std.length + " stds for " + channels + " channels");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The official MambaVision evaluation: RGB, bicubic, the variant's crop_pct, ImageNet mean and std. */
    public static EvalPreprocessing official(VisionModel model) {
        return official(model.defaultImgSize(), model.cropPct());
    }

    public static EvalPreprocessing official(int size, float cropPct) {
        // The decimal the preset wrote (0.93f -> 0.93), so floor(size / cropPct) matches Python's double arithmetic.
        return new EvalPreprocessing(3, size, Double.parseDouble(Float.toString(cropPct)), Resample.Filter.BICUBIC,
                Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD);
    }

    /** timm: floor(img_size / crop_pct). */
    public static int scaleSize(int size, double cropPct) {
        return (int) Math.floor(size / cropPct);
    }

    /** The decoded image as CHW floats, channels x size x size, through Pillow's 8-bit resize. */
    public float[] apply(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        int[] hw = resizedSize(h, w);
        byte[] resized = Resample.resizeU8(Images.toU8Planes(img, channels), channels, h, w, hw[0], hw[1], filter);
        return finish(Image.fromU8Planes(resized, channels, hw[0], hw[1])).data();
    }

    /** The same steps on float images in [0, 1] (resized with Pillow's float path). */
    public Transform transform() {
        return (img, rng) -> {
            Image x = img.withChannels(channels);
            int[] hw = resizedSize(x.height(), x.width());
            return finish(Resize.resize(x, hw[0], hw[1], filter));
        };
    }

    /** The image as a (1, C, size, size) tensor's data, from a float image in [0, 1]. */
    public float[] apply(Image img) {
        return transform().apply(img.copy(), new SplittableRandom(0)).data();
    }

    private int[] resizedSize(int h, int w) {
        return cropPct > 0 ? Resample.shorterSideSize(h, w, scaleSize(size, cropPct)) : new int[] {size, size};
    }

    /** torchvision's CenterCrop (offsets round((in - out) / 2), zero padding), then normalisation. */
    private Image finish(Image resized) {
        int top = (int) Math.rint((resized.height() - size) / 2.0), left = (int) Math.rint((resized.width() - size) / 2.0);
        Image x = resized.height() == size && resized.width() == size ? resized : resized.crop(top, left, size, size);
        return new Normalize(mean, std).apply(x, null);
    }

    // ---- as metadata (training checkpoints, converted weights, exported models)

    static final String PREFIX = "preprocess.";

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "channels", Integer.toString(channels));
        m.put(PREFIX + "size", Integer.toString(size));
        m.put(PREFIX + "crop_pct", Double.toString(cropPct));
        m.put(PREFIX + "interpolation", filter.name().toLowerCase(Locale.ROOT));
        m.put(PREFIX + "mean", join(mean));
        m.put(PREFIX + "std", join(std));
        return m;
    }

    /** The preprocessing stored by {@link #toMetadata}, or null when the metadata has none. */
    public static EvalPreprocessing fromMetadata(Map<String, String> m, String file) {
        if (!m.containsKey(PREFIX + "size")) return null;
        try {
            return new EvalPreprocessing(Integer.parseInt(req(m, "channels", file)), Integer.parseInt(req(m, "size", file)),
                    Double.parseDouble(req(m, "crop_pct", file)),
                    Resample.Filter.valueOf(req(m, "interpolation", file).toUpperCase(Locale.ROOT)),
                    floats(req(m, "mean", file)), floats(req(m, "std", file)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": bad preprocessing metadata (" + e.getMessage() + ")");
        }
    }

    private static String req(Map<String, String> m, String k, String file) {
        String v = m.get(PREFIX + k);
        if (v == null) throw new IllegalArgumentException("'" + PREFIX + k + "' is missing");
        return v;
    }

    private static String join(float[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) b.append(i == 0 ? "" : ",").append(v[i]);
        return b.toString();
    }

    private static float[] floats(String s) {
        String[] parts = s.split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i].strip());
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EvalPreprocessing p && p.channels == channels && p.size == size && p.cropPct == cropPct && p.filter == filter
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return ((channels * 31 + size) * 31 + Double.hashCode(cropPct)) * 31 + filter.hashCode();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d channel(s), %s%d, %s, mean %s, std %s", channels,
                cropPct > 0 ? "resize to " + scaleSize(size, cropPct) + " + center crop " : "resize to ", size,
                filter.name().toLowerCase(Locale.ROOT), Arrays.toString(mean), Arrays.toString(std));
    }
}
