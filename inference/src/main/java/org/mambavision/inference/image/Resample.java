package org.mambavision.inference.image;

/**
 * Pillow's separable resampling ({@code ImagingResample} in libImaging/Resample.c): a convolution whose support
 * is scaled by the downscale factor (antialiasing), horizontal pass first, then vertical.
 *
 * <p>{@link #resizeFloat} follows Pillow's mode "F" path (double weights, float intermediate);
 * {@link #resizeU8} follows its 8-bit path (weights in 22-bit fixed point, rounding, clipping to 0..255 after each
 * pass), which is what {@code Image.resize} does on RGB and L images. Both give Pillow's numbers.
 */
public final class Resample {
    private Resample() {}

    public enum Filter {
        /** Triangle filter, support 1. */
        BILINEAR(1.0),
        /** Keys cubic with a = -0.5, support 2 (Pillow's BICUBIC). */
        BICUBIC(2.0),
        /** The input pixel under each output pixel's centre, no antialiasing (Pillow's NEAREST; see {@link #coeffs}). */
        NEAREST(0.0);

        final double support;

        Filter(double support) { this.support = support; }

        double weight(double x) {
            if (x < 0) x = -x;
            if (this == BILINEAR) return x < 1 ? 1 - x : 0;
            final double a = -0.5;
            if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
            if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
            return 0;
        }
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Weights of each output position: taps {@code kk[o*ksize .. +len[o]]} start at input {@code start[o]}. */
    record Coeffs(int ksize, int[] start, int[] len, double[] kk) {
        /** Pillow's normalize_coeffs_8bpc: round half away from zero to 22-bit fixed point. */
        int[] fixedPoint() {
            int[] k = new int[kk.length];
            for (int i = 0; i < kk.length; i++) {
                double v = kk[i] * (1 << PRECISION_BITS);
                k[i] = (int) (v < 0 ? -0.5 + v : 0.5 + v);
            }
            return k;
        }
    }

    /** Pillow's precompute_coeffs for the box [0, inSize) mapped onto outSize samples. */
    static Coeffs coeffs(int inSize, int outSize, Filter f) {
        double scale = (double) inSize / outSize;
        if (f == Filter.NEAREST) return nearestCoeffs(inSize, outSize, scale);
        double filterscale = Math.max(scale, 1.0);
        double support = f.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] start = new int[outSize], len = new int[outSize];
        double[] kk = new double[outSize * ksize];
        double ss = 1.0 / filterscale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            double ww = 0;
            int base = xx * ksize;
            for (int x = 0; x < xmax; x++) {
                double w = f.weight((x + xmin - center + 0.5) * ss);
                kk[base + x] = w;
                ww += w;
            }
            if (ww != 0) for (int x = 0; x < xmax; x++) kk[base + x] /= ww;
            start[xx] = xmin;
            len[xx] = xmax;
        }
        return new Coeffs(ksize, start, len, kk);
    }

    /**
     * Pillow's nearest-neighbour scaling (ImagingScaleAffine): output x reads input (int) ((x + 0.5) scale), the
     * position accumulated step by step as Pillow does. One tap of weight 1, so both resize paths copy values exactly.
     */
    private static Coeffs nearestCoeffs(int inSize, int outSize, double scale) {
        int[] start = new int[outSize], len = new int[outSize];
        double[] kk = new double[outSize];
        double pos = scale * 0.5;
        for (int xx = 0; xx < outSize; xx++) {
            start[xx] = Math.min((int) pos, inSize - 1);
            len[xx] = 1;
            kk[xx] = 1;
            pos += scale;
        }
        return new Coeffs(1, start, len, kk);
    }

    /**
     * Resizes each of {@code channels} planes (CHW) from inH x inW to outH x outW like Pillow on a mode "F" image.
     * Values are not clamped.
     */
    public static float[] resizeFloat(float[] src, int channels, int inH, int inW, int outH, int outW, Filter f) {
        checkSizes(src.length, channels, inH, inW, outH, outW);
        boolean horiz = outW != inW, vert = outH != inH;
        float[] cur = src;
        int curW = inW;
        if (horiz) {
            Coeffs c = coeffs(inW, outW, f);
            float[] tmp = new float[channels * inH * outW];
            for (int row = 0; row < channels * inH; row++) {
                int si = row * inW, di = row * outW;
                for (int xx = 0; xx < outW; xx++) {
                    int s = si + c.start[xx], k = xx * c.ksize;
                    double acc = 0;
                    for (int x = 0, n = c.len[xx]; x < n; x++) acc += cur[s + x] * c.kk[k + x];
                    tmp[di + xx] = (float) acc;
                }
            }
            cur = tmp;
            curW = outW;
        }
        if (vert) {
            Coeffs c = coeffs(inH, outH, f);
            float[] out = new float[channels * outH * curW];
            double[] acc = new double[curW];
            for (int ch = 0; ch < channels; ch++) {
                int sp = ch * inH * curW, dp = ch * outH * curW;
                for (int yy = 0; yy < outH; yy++) {
                    int k = yy * c.ksize, y0 = c.start[yy], n = c.len[yy], di = dp + yy * curW;
                    // Row-wise accumulation (cache friendly); per pixel the taps are still summed in Pillow's order.
                    java.util.Arrays.fill(acc, 0);
                    for (int y = 0; y < n; y++) {
                        double kv = c.kk[k + y];
                        int si = sp + (y0 + y) * curW;
                        for (int xx = 0; xx < curW; xx++) acc[xx] += cur[si + xx] * kv;
                    }
                    for (int xx = 0; xx < curW; xx++) out[di + xx] = (float) acc[xx];
                }
            }
            cur = out;
        }
        return cur == src ? src.clone() : cur;
    }

    /** Resizes 8-bit planes (CHW, unsigned bytes) like Pillow's {@code Image.resize} on an RGB or L image. */
    public static byte[] resizeU8(byte[] src, int channels, int inH, int inW, int outH, int outW, Filter f) {
        checkSizes(src.length, channels, inH, inW, outH, outW);
        boolean horiz = outW != inW, vert = outH != inH;
        byte[] cur = src;
        int curW = inW;
        final int half = 1 << (PRECISION_BITS - 1);
        if (horiz) {
            Coeffs c = coeffs(inW, outW, f);
            int[] kk = c.fixedPoint();
            byte[] tmp = new byte[channels * inH * outW];
            for (int row = 0; row < channels * inH; row++) {
                int si = row * inW, di = row * outW;
                for (int xx = 0; xx < outW; xx++) {
                    int s = si + c.start[xx], k = xx * c.ksize;
                    int acc = half;
                    for (int x = 0, n = c.len[xx]; x < n; x++) acc += (cur[s + x] & 0xFF) * kk[k + x];
                    tmp[di + xx] = clip8(acc);
                }
            }
            cur = tmp;
            curW = outW;
        }
        if (vert) {
            Coeffs c = coeffs(inH, outH, f);
            int[] kk = c.fixedPoint();
            byte[] out = new byte[channels * outH * curW];
            int[] acc = new int[curW];
            for (int ch = 0; ch < channels; ch++) {
                int sp = ch * inH * curW, dp = ch * outH * curW;
                for (int yy = 0; yy < outH; yy++) {
                    int k = yy * c.ksize, y0 = c.start[yy], n = c.len[yy], di = dp + yy * curW;
                    java.util.Arrays.fill(acc, half);
                    for (int y = 0; y < n; y++) {
                        int kv = kk[k + y], si = sp + (y0 + y) * curW;
                        for (int xx = 0; xx < curW; xx++) acc[xx] += (cur[si + xx] & 0xFF) * kv;
                    }
                    for (int xx = 0; xx < curW; xx++) out[di + xx] = clip8(acc[xx]);
                }
            }
            cur = out;
        }
        return cur == src ? src.clone() : cur;
    }

    private static byte clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    private static void checkSizes(int len, int channels, int inH, int inW, int outH, int outW) {
        if (channels <= 0 || inH <= 0 || inW <= 0 || outH <= 0 || outW <= 0 || len != channels * inH * inW) {
            throw new IllegalArgumentException("Resample: bad sizes: data " + len + ", " + channels + "x" + inH + "x" + inW + " -> " + outH + "x" + outW);
        }
    }

    /**
     * torchvision's output size for {@code Resize(size)} with an int: the shorter side becomes {@code size}, the
     * longer keeps the aspect ratio (truncated). Returns {height, width}.
     */
    public static int[] shorterSideSize(int h, int w, int size) {
        if (w <= h) return new int[] {(int) ((long) size * h / w), size};
        return new int[] {size, (int) ((long) size * w / h)};
    }
}
