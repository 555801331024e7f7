package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Image;

/** Pixel helpers shared by the transforms (float images, values in [0, 1] unless said otherwise). */
final class PixelOps {
    private PixelOps() {}

    static float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

    /** The 8-bit level a [0, 1] value stands for. */
    static int toLevel(float v) { return Math.round(clamp01(v) * 255f); }

    /** Luma plane (ITU-R 601, as PIL's convert("L") and torchvision's rgb_to_grayscale); the plane itself for 1 channel. */
    static float[] grey(Image img) {
        int n = img.planeSize();
        float[] d = img.data(), g = new float[n];
        if (img.channels() < 3) {
            System.arraycopy(d, 0, g, 0, n);
            return g;
        }
        for (int i = 0; i < n; i++) g[i] = 0.299f * d[i] + 0.587f * d[n + i] + 0.114f * d[2 * n + i];
        return g;
    }

    /** In place: img = degenerate + factor * (img - degenerate), clamped (PIL ImageEnhance blend). Degenerate per channel plane or shared. */
    static void blend(Image img, float[] degenerate, boolean sharedPlane, float factor) {
        float[] d = img.data();
        int n = img.planeSize();
        for (int c = 0; c < img.channels(); c++) {
            int off = c * n, doff = sharedPlane ? 0 : off;
            for (int i = 0; i < n; i++) d[off + i] = clamp01(degenerate[doff + i] + factor * (d[off + i] - degenerate[doff + i]));
        }
    }

    /** In place: img = v + factor * (img - v) with one constant v, clamped. */
    static void blendConstant(Image img, float v, float factor) {
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) d[i] = clamp01(v + factor * (d[i] - v));
    }

    /**
     * PIL's {@code Image.transform(AFFINE)}: output pixel (x, y) samples the input at
     * (m0 x + m1 y + m2, m3 x + m4 y + m5) taken at pixel centres; outside the input gives {@code fill[c]}.
     */
    static Image affine(Image img, double[] m, boolean bilinear, float[] fill) {
        int c = img.channels(), h = img.height(), w = img.width(), n = h * w;
        float[] s = img.data(), o = new float[s.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
                double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
                int di = y * w + x;
                if (!bilinear) {
                    int xi = (int) Math.floor(xin), yi = (int) Math.floor(yin);
                    if (xi < 0 || yi < 0 || xi >= w || yi >= h) {
                        for (int ch = 0; ch < c; ch++) o[ch * n + di] = fill[ch];
                    } else {
                        for (int ch = 0; ch < c; ch++) o[ch * n + di] = s[ch * n + yi * w + xi];
                    }
                    continue;
                }
                double xs = xin - 0.5, ys = yin - 0.5;
                if (xs < -1 || xs >= w || ys < -1 || ys >= h) {
                    for (int ch = 0; ch < c; ch++) o[ch * n + di] = fill[ch];
                    continue;
                }
                int x0 = (int) Math.floor(xs), y0 = (int) Math.floor(ys);
                float fx = (float) (xs - x0), fy = (float) (ys - y0);
                int xa = Math.max(x0, 0), xb = Math.min(x0 + 1, w - 1), ya = Math.max(y0, 0), yb = Math.min(y0 + 1, h - 1);
                for (int ch = 0; ch < c; ch++) {
                    int p = ch * n;
                    float top = s[p + ya * w + xa] + fx * (s[p + ya * w + xb] - s[p + ya * w + xa]);
                    float bot = s[p + yb * w + xa] + fx * (s[p + yb * w + xb] - s[p + yb * w + xa]);
                    o[p + di] = top + fy * (bot - top);
                }
            }
        }
        return new Image(o, c, h, w);
    }

    /** PIL's rotate(degrees) matrix about the image centre (counter-clockwise for positive degrees). */
    static double[] rotation(double degrees, int h, int w) {
        double a = -Math.toRadians(degrees);
        double cos = Math.cos(a), sin = Math.sin(a);
        double cx = w / 2.0, cy = h / 2.0;
        // input = M (out - centre) + centre
        return new double[] {cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy};
    }
}
