package org.mambavision.training.data;

import java.util.SplittableRandom;

/**
 * timm's Mixup in 'batch' mode: with probability {@code prob} a batch is mixed with its reverse (sample i with
 * sample N-1-i), either by mixup (x = lam x + (1 - lam) x.flip(0), lam ~ Beta(mixupAlpha, mixupAlpha)) or, with
 * probability {@code switchProb} when both are on, by cutmix (a box of area fraction 1 - lam, lam ~ Beta(cutmixAlpha,
 * cutmixAlpha), taken from the reversed batch; lam corrected to the box actually pasted). Targets are label-smoothed
 * one-hots (off = smoothing / K, on = 1 - smoothing + off) mixed with the same lam, so each row sums to 1.
 * An odd batch is allowed (the middle sample pairs with itself); timm asserts even.
 */
public final class MixupCutmix {
    private final double mixupAlpha, cutmixAlpha, prob, switchProb, smoothing;
    private final int numClasses;

    /** What the last {@link #apply} did. */
    public record Params(double lam, boolean cutmix, int yl, int yh, int xl, int xh) {}

    public MixupCutmix(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double labelSmoothing, int numClasses) {
        if (mixupAlpha < 0 || cutmixAlpha < 0 || prob < 0 || prob > 1 || switchProb < 0 || switchProb > 1
                || labelSmoothing < 0 || labelSmoothing >= 1 || numClasses < 1) {
            throw new IllegalArgumentException("MixupCutmix: bad arguments mixup " + mixupAlpha + ", cutmix " + cutmixAlpha + ", prob " + prob
                    + ", switch " + switchProb + ", smoothing " + labelSmoothing + ", classes " + numClasses);
        }
        this.mixupAlpha = mixupAlpha;
        this.cutmixAlpha = cutmixAlpha;
        this.prob = prob;
        this.switchProb = switchProb;
        this.smoothing = labelSmoothing;
        this.numClasses = numClasses;
    }

    public int numClasses() { return numClasses; }

    /** Mixes {@code images} (N*C*H*W) in place and returns the N*numClasses soft targets. */
    public float[] apply(float[] images, int n, int c, int h, int w, int[] labels, SplittableRandom rng) {
        return apply(images, n, c, h, w, labels, rng, null);
    }

    /** As {@link #apply(float[], int, int, int, int, int[], SplittableRandom)}; {@code out[0]} receives the parameters used. */
    public float[] apply(float[] images, int n, int c, int h, int w, int[] labels, SplittableRandom rng, Params[] out) {
        if (images.length != n * c * h * w || labels.length != n) {
            throw new IllegalArgumentException("MixupCutmix: images " + images.length + " floats, labels " + labels.length + " for " + n + "x" + c + "x" + h + "x" + w);
        }
        double lam = 1;
        boolean cutmix = false;
        if ((mixupAlpha > 0 || cutmixAlpha > 0) && rng.nextDouble() < prob) {
            if (mixupAlpha > 0 && cutmixAlpha > 0) {
                cutmix = rng.nextDouble() < switchProb;
                lam = cutmix ? Rng.beta(rng, cutmixAlpha, cutmixAlpha) : Rng.beta(rng, mixupAlpha, mixupAlpha);
            } else if (mixupAlpha > 0) {
                lam = Rng.beta(rng, mixupAlpha, mixupAlpha);
            } else {
                cutmix = true;
                lam = Rng.beta(rng, cutmixAlpha, cutmixAlpha);
            }
        }
        int yl = 0, yh = 0, xl = 0, xh = 0;
        if (lam != 1) {
            int sample = c * h * w;
            if (cutmix) {
                double ratio = Math.sqrt(1 - lam);
                int cutH = (int) (h * ratio), cutW = (int) (w * ratio);
                int cy = rng.nextInt(h), cx = rng.nextInt(w);
                yl = clamp(cy - cutH / 2, h);
                yh = clamp(cy + cutH / 2, h);
                xl = clamp(cx - cutW / 2, w);
                xh = clamp(cx + cutW / 2, w);
                lam = 1 - (double) (yh - yl) * (xh - xl) / ((double) h * w);
                for (int i = 0, j = n - 1; i < j; i++, j--) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int y = yl; y < yh; y++) {
                            int a = i * sample + (ch * h + y) * w, b = j * sample + (ch * h + y) * w;
                            for (int x = xl; x < xh; x++) {
                                float t = images[a + x];
                                images[a + x] = images[b + x];
                                images[b + x] = t;
                            }
                        }
                    }
                }
            } else {
                float l = (float) lam, m = (float) (1 - lam);
                for (int i = 0, j = n - 1; i < j; i++, j--) {
                    int a = i * sample, b = j * sample;
                    for (int k = 0; k < sample; k++) {
                        float va = images[a + k], vb = images[b + k];
                        images[a + k] = va * l + vb * m;
                        images[b + k] = vb * l + va * m;
                    }
                }
            }
        }
        if (out != null && out.length > 0) out[0] = new Params(lam, cutmix, yl, yh, xl, xh);
        return mixTargets(labels, numClasses, lam, smoothing);
    }

    private static int clamp(int v, int hi) { return Math.max(0, Math.min(v, hi)); }

    /** timm's mixup_target: smoothed one-hot of labels * lam + smoothed one-hot of reversed labels * (1 - lam). */
    public static float[] mixTargets(int[] labels, int numClasses, double lam, double smoothing) {
        int n = labels.length;
        float off = (float) (smoothing / numClasses), on = (float) (1 - smoothing + smoothing / numClasses);
        float[] t = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
            int a = labels[i], b = labels[n - 1 - i];
            if (a < 0 || a >= numClasses || b < 0 || b >= numClasses) throw new IllegalArgumentException("MixupCutmix: label out of 0.." + (numClasses - 1) + ": " + (a < 0 || a >= numClasses ? a : b));
            for (int k = 0; k < numClasses; k++) {
                float ya = k == a ? on : off, yb = k == b ? on : off;
                t[i * numClasses + k] = (float) (ya * lam + yb * (1 - lam));
            }
        }
        return t;
    }
}
