package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;
import org.mambavision.training.data.Rng;

/**
 * timm's RandomErasing, applied after Normalize: with probability p, one rectangle of area fraction in
 * [0.02, 1/3] and log-uniform aspect in [0.3, 1/0.3] (10 tries to fit) is replaced by per-pixel standard normal
 * values ({@link Mode#PIXEL}, timm's default 'pixel'), one normal value per channel ({@link Mode#RAND}) or zeros
 * ({@link Mode#CONST}).
 */
public final class RandomErasing implements Transform {
    public enum Mode { PIXEL, RAND, CONST }

    private final double p, minArea, maxArea, logAspectLo, logAspectHi;
    private final Mode mode;

    public RandomErasing(double p) { this(p, Mode.PIXEL); }

    public RandomErasing(double p, Mode mode) { this(p, mode, 0.02, 1.0 / 3, 0.3); }

    public RandomErasing(double p, Mode mode, double minArea, double maxArea, double minAspect) {
        if (p < 0 || p > 1 || minArea <= 0 || maxArea < minArea || minAspect <= 0) {
            throw new IllegalArgumentException("RandomErasing: bad arguments p " + p + ", area (" + minArea + ", " + maxArea + "), min aspect " + minAspect);
        }
        this.p = p;
        this.mode = mode;
        this.minArea = minArea;
        this.maxArea = maxArea;
        this.logAspectLo = Math.log(minAspect);
        this.logAspectHi = Math.log(1 / minAspect);
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        if (rng.nextDouble() > p) return img;
        int ih = img.height(), iw = img.width(), c = img.channels();
        double area = (double) ih * iw;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = Rng.uniform(rng, minArea, maxArea) * area;
            double aspect = Math.exp(Rng.uniform(rng, logAspectLo, logAspectHi));
            int h = (int) Math.rint(Math.sqrt(target * aspect)), w = (int) Math.rint(Math.sqrt(target / aspect));
            if (w < iw && h < ih) {
                int top = rng.nextInt(ih - h + 1), left = rng.nextInt(iw - w + 1);
                fill(img, top, left, h, w, rng);
                break;
            }
        }
        return img;
    }

    private void fill(Image img, int top, int left, int h, int w, SplittableRandom rng) {
        float[] d = img.data();
        for (int ch = 0; ch < img.channels(); ch++) {
            float channelValue = mode == Mode.RAND ? (float) Rng.gaussian(rng) : 0f;
            for (int y = top; y < top + h; y++) {
                int row = (ch * img.height() + y) * img.width();
                for (int x = left; x < left + w; x++) d[row + x] = mode == Mode.PIXEL ? (float) Rng.gaussian(rng) : channelValue;
            }
        }
    }
}
