package org.mambavision.engine.ops;

import org.mambavision.engine.Tensor;

/**
 * Sizes of one 2-D convolution: input (n, cin, h, w), weight (cout, cin, kh, kw), stride, zero padding,
 * and the derived output size and im2col row count {@code k = cin * kh * kw}.
 */
record ConvGeometry(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw, int ph, int pw,
                    int hout, int wout) {

    static ConvGeometry of(Tensor x, Tensor weight, Tensor bias, int sh, int sw, int ph, int pw) {
        if (x.rank() != 4 || weight.rank() != 4 || x.dim(1) != weight.dim(1)) {
            throw new IllegalArgumentException("Conv2d: input (N, Cin, H, W) and weight (Cout, Cin, kh, kw) do not match: "
                    + x.shapeString() + " vs " + weight.shapeString());
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("Conv2d: bias must be (Cout): " + bias.shapeString() + " vs weight " + weight.shapeString());
        }
        if (sh < 1 || sw < 1 || ph < 0 || pw < 0) {
            throw new IllegalArgumentException("Conv2d: stride must be >= 1 and padding >= 0, got stride " + sh + "x" + sw
                    + ", padding " + ph + "x" + pw + " for input " + x.shapeString());
        }
        int h = x.dim(2), w = x.dim(3), kh = weight.dim(2), kw = weight.dim(3);
        int hout = Math.floorDiv(h + 2 * ph - kh, sh) + 1, wout = Math.floorDiv(w + 2 * pw - kw, sw) + 1;
        if (hout <= 0 || wout <= 0 || kh == 0 || kw == 0) {
            throw new IllegalArgumentException("Conv2d: kernel larger than padded input: " + x.shapeString() + " vs weight "
                    + weight.shapeString() + " with padding " + ph + "x" + pw);
        }
        return new ConvGeometry(x.dim(0), x.dim(1), h, w, weight.dim(0), kh, kw, sh, sw, ph, pw, hout, wout);
    }

    /** Rows of the im2col matrix (the GEMM reduction length). */
    int k() { return cin * kh * kw; }

    /** Output pixels per channel. */
    int outPlane() { return hout * wout; }

    int inPlane() { return h * w; }

    /** 1x1, stride 1, no padding: the input itself is the im2col matrix. */
    boolean isPointwise() { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }

    /** Non-overlapping patches (kernel == stride, no padding): im2col is a pure permutation. */
    boolean isPatchify() { return kh == sh && kw == sw && ph == 0 && pw == 0 && !isPointwise(); }

    String describe() {
        return n + "x" + cin + "x" + h + "x" + w + " " + kh + "x" + kw + " s" + sh + "x" + sw + " p" + ph + "x" + pw + " ->" + cout;
    }
}
