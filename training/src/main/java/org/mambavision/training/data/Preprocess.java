package org.mambavision.training.data;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.mambavision.training.data.transforms.CenterCrop;
import org.mambavision.training.data.transforms.ColorJitter;
import org.mambavision.training.data.transforms.Normalize;
import org.mambavision.training.data.transforms.RandAugment;
import org.mambavision.training.data.transforms.RandomErasing;
import org.mambavision.training.data.transforms.RandomHorizontalFlip;
import org.mambavision.training.data.transforms.RandomResizedCrop;
import org.mambavision.training.data.transforms.Resample;
import org.mambavision.training.data.transforms.Resize;
import org.mambavision.training.data.transforms.Transform;

/** The timm preprocessing pipelines used by MambaVision. */
public final class Preprocess {
    private Preprocess() {}

    /**
     * timm's evaluation transform on a decoded image: shorter side to floor(size / cropPct) with Pillow's 8-bit
     * bicubic resize, center crop size x size, /255, ImageNet mean/std. Returns 3*size*size floats (CHW).
     * For the same decoded pixels this reproduces timm + Pillow exactly (JPEG decoders themselves may differ).
     */
    public static float[] officialEval(BufferedImage img, int size, float cropPct) {
        // The decimal the caller wrote (0.93f -> 0.93), so floor(size / cropPct) matches Python's double arithmetic.
        return officialEval(img, size, Double.parseDouble(Float.toString(cropPct)));
    }

    public static float[] officialEval(BufferedImage img, int size, double cropPct) {
        if (size <= 0 || !(cropPct > 0) || cropPct > 1.5) throw new IllegalArgumentException("officialEval: bad size " + size + " or crop_pct " + cropPct);
        int h = img.getHeight(), w = img.getWidth();
        byte[] rgb = Images.toU8Planes(img, 3);
        int[] hw = Resample.shorterSideSize(h, w, scaleSize(size, cropPct));
        byte[] resized = Resample.resizeU8(rgb, 3, h, w, hw[0], hw[1], Resample.Filter.BICUBIC);
        int rh = hw[0], rw = hw[1];
        int top = (int) Math.rint((rh - size) / 2.0), left = (int) Math.rint((rw - size) / 2.0);
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            float mean = Normalize.IMAGENET_MEAN[c], std = Normalize.IMAGENET_STD[c];
            for (int y = 0; y < size; y++) {
                int sy = top + y;
                for (int x = 0; x < size; x++) {
                    int sx = left + x;
                    float v = sy >= 0 && sy < rh && sx >= 0 && sx < rw ? (resized[(c * rh + sy) * rw + sx] & 0xFF) / 255f : 0f;
                    out[(c * size + y) * size + x] = (v - mean) / std;
                }
            }
        }
        return out;
    }

    /** timm: floor(img_size / crop_pct). */
    public static int scaleSize(int size, double cropPct) { return (int) Math.floor(size / cropPct); }

    /** The evaluation pipeline as a {@link Transform} on float images (float resize path). */
    public static Transform evalTransform(int size, double cropPct) {
        return Transform.compose(new Resize(scaleSize(size, cropPct), Resample.Filter.BICUBIC), new CenterCrop(size), Normalize.imagenet());
    }

    /**
     * timm's transforms_imagenet_train: RandomResizedCrop(size, scale (0.08, 1), ratio (3/4, 4/3)), horizontal flip
     * 0.5, then RandAugment when {@code randAugment} is a spec like "rand-m9-mstd0.5-inc1" (colour jitter is then
     * off, as in timm) else ColorJitter(colorJitter) when > 0, ImageNet normalisation, RandomErasing(reProb, pixel mode).
     */
    public static Transform imagenetTrain(int size, String randAugment, double colorJitter, double reProb, Resample.Filter filter) {
        List<Transform> t = new ArrayList<>();
        t.add(new RandomResizedCrop(size, 0.08, 1.0, 3.0 / 4, 4.0 / 3, filter));
        t.add(new RandomHorizontalFlip(0.5));
        if (randAugment != null && !randAugment.isBlank()) t.add(RandAugment.parse(randAugment));
        else if (colorJitter > 0) t.add(ColorJitter.of(colorJitter));
        t.add(Normalize.imagenet());
        if (reProb > 0) t.add(new RandomErasing(reProb, RandomErasing.Mode.PIXEL));
        return Transform.compose(t);
    }
}
