package org.mambavision.engine.ops;

import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

/** Zero padding and cropping of the last two dimensions of (N, C, H, W) tensors. */
public final class Pad {
    private Pad() {}

    /** Pads with zeros: output (N, C, top + H + bottom, left + W + right). Returns {@code x} itself when all pads are 0. */
    public static Tensor zeroPad2d(Tensor x, int left, int right, int top, int bottom) {
        if (x.rank() != 4 || left < 0 || right < 0 || top < 0 || bottom < 0) {
            throw new IllegalArgumentException("Pad.zeroPad2d: needs (N, C, H, W) and pads >= 0, got " + x.shapeString()
                    + " with pads (left " + left + ", right " + right + ", top " + top + ", bottom " + bottom + ")");
        }
        if (left == 0 && right == 0 && top == 0 && bottom == 0) return x;
        int h = x.dim(2), w = x.dim(3), ho = h + top + bottom, wo = w + left + right;
        Tensor out = Tensor.zeros(x.dim(0), x.dim(1), ho, wo);
        Window win = new Window(x.dim(0) * x.dim(1), ho, wo, h, w, top, left);
        win.innerToOuter(x.data, out.data, false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.op(out, "Pad", x, tr.longs(0, 0, top, left, 0, 0, bottom, right), OpTrace.Attr.s("mode", "constant"));
        Tape.record(out, () -> win.addOuterToInner(out.grad, x.gradBuffer()), x);
        return out;
    }

    /** Crops to rows [top, top + height) and columns [left, left + width): output (N, C, height, width). */
    public static Tensor crop2d(Tensor x, int top, int left, int height, int width) {
        if (x.rank() != 4 || top < 0 || left < 0 || height < 0 || width < 0 || top + height > x.dim(2) || left + width > x.dim(3)) {
            throw new IllegalArgumentException("Pad.crop2d: region (top " + top + ", left " + left + ", " + height + "x" + width
                    + ") does not fit in " + x.shapeString());
        }
        Tensor out = Tensor.zeros(x.dim(0), x.dim(1), height, width);
        Window win = new Window(x.dim(0) * x.dim(1), x.dim(2), x.dim(3), height, width, top, left);
        win.addOuterToInner(x.data, out.data);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            tr.bind(out, tr.slice(x, new long[] {top, left}, new long[] {top + height, left + width}, new long[] {2, 3}));
        }
        Tape.record(out, () -> win.innerToOuter(out.grad, x.gradBuffer(), true), x);
        return out;
    }

    /** An inner (hi x wi) rectangle at (top, left) inside each of {@code planes} outer (ho x wo) planes. */
    private record Window(int planes, int ho, int wo, int hi, int wi, int top, int left) {
        /** inner -> outer: outer[top + y, left + x] (+)= inner[y, x]. The rest of outer is untouched. */
        void innerToOuter(float[] inner, float[] outer, boolean accumulate) {
            Parallel.forRange(planes, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    for (int y = 0; y < hi; y++) {
                        int src = (p * hi + y) * wi, dst = (p * ho + top + y) * wo + left;
                        if (accumulate) for (int i = 0; i < wi; i++) outer[dst + i] += inner[src + i];
                        else System.arraycopy(inner, src, outer, dst, wi);
                    }
                }
            });
        }

        /** outer -> inner: inner[y, x] += outer[top + y, left + x] (inner must hold zeros for a plain copy). */
        void addOuterToInner(float[] outer, float[] inner) {
            Parallel.forRange(planes, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    for (int y = 0; y < hi; y++) {
                        int dst = (p * hi + y) * wi, src = (p * ho + top + y) * wo + left;
                        for (int i = 0; i < wi; i++) inner[dst + i] += outer[src + i];
                    }
                }
            });
        }
    }
}
