package org.mambavision.engine.ops;

import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

/**
 * Window partition and its inverse, as in the official MambaVision code.
 *
 * <p>partition: x (B, C, H, W) -> {@code x.view(B, C, H/ws, ws, W/ws, ws).permute(0, 2, 4, 3, 5, 1).reshape(-1, ws*ws, C)},
 * i.e. windows[(b*nH + wh)*nW + ww, i*ws + j, c] = x[b, c, wh*ws + i, ww*ws + j] (raster order inside a window).
 * reverse is the exact inverse. Both are permutations, so each one's backward is the other's mapping.
 */
public final class Windows {
    private Windows() {}

    public static Tensor partition(Tensor x, int ws) {
        if (x.rank() != 4 || ws < 1 || x.dim(2) % ws != 0 || x.dim(3) % ws != 0) {
            throw new IllegalArgumentException("Windows.partition: needs (B, C, H, W) with H and W multiples of the window size "
                    + ws + ", got " + x.shapeString());
        }
        Layout l = new Layout(x.dim(0), x.dim(1), x.dim(2), x.dim(3), ws);
        Tensor out = Tensor.empty(l.windows(), ws * ws, l.c);
        l.transfer(x.data, out.data, true, false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            int nh = l.h / ws, nw = l.w / ws;
            String t = tr.transpose(tr.reshape(x, l.b, l.c, nh, ws, nw, ws), 0, 2, 4, 3, 5, 1);
            tr.bind(out, tr.reshape(t, l.windows(), ws * ws, l.c));
        }
        Tape.record(out, () -> {
            boolean fresh = x.allocateGradForOverwrite();
            l.transfer(x.grad, out.grad, false, !fresh);
        }, x);
        return out;
    }

    public static Tensor reverse(Tensor windows, int ws, int h, int w) {
        if (windows.rank() != 3 || ws < 1 || h % ws != 0 || w % ws != 0 || windows.dim(1) != ws * ws
                || windows.dim(0) % ((h / ws) * (w / ws)) != 0) {
            throw new IllegalArgumentException("Windows.reverse: windows " + windows.shapeString() + " do not tile an image of "
                    + h + "x" + w + " with window size " + ws + " (expected (B*" + (h / Math.max(ws, 1)) + "*" + (w / Math.max(ws, 1))
                    + ", " + ws * ws + ", C))");
        }
        Layout l = new Layout(windows.dim(0) / ((h / ws) * (w / ws)), windows.dim(2), h, w, ws);
        Tensor out = Tensor.empty(l.b, l.c, h, w);
        l.transfer(out.data, windows.data, false, false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(windows)) {
            int nh = h / ws, nw = w / ws;
            String t = tr.transpose(tr.reshape(windows, l.b, nh, nw, ws, ws, l.c), 0, 5, 1, 3, 2, 4);
            tr.bind(out, tr.reshape(t, l.b, l.c, h, w));
        }
        Tape.record(out, () -> {
            boolean fresh = windows.allocateGradForOverwrite();
            l.transfer(out.grad, windows.grad, true, !fresh);
        }, windows);
        return out;
    }

    /** The index mapping between an image batch (B, C, H, W) and its windows (B*nH*nW, ws*ws, C). */
    private record Layout(int b, int c, int h, int w, int ws) {
        int windows() { return b * (h / ws) * (w / ws); }

        /**
         * Moves values between {@code image} and {@code win}: towards the windows when {@code toWindows},
         * else towards the image; {@code accumulate} adds instead of overwriting. Tasks are rows of windows
         * (b, wh); each writes only its own windows and its own image rows.
         */
        void transfer(float[] image, float[] win, boolean toWindows, boolean accumulate) {
            int nh = h / ws, nw = w / ws, area = ws * ws;
            Parallel.forEach(b * nh, task -> {
                int bi = task / nh, wh = task % nh;
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < ws; i++) {
                        int img = ((bi * c + ch) * h + wh * ws + i) * w;
                        for (int ww = 0; ww < nw; ww++) {
                            int wbase = ((task * nw + ww) * area + i * ws) * c + ch;
                            int ibase = img + ww * ws;
                            for (int j = 0; j < ws; j++) {
                                int wi = wbase + j * c, ii = ibase + j;
                                if (toWindows) {
                                    if (accumulate) win[wi] += image[ii]; else win[wi] = image[ii];
                                } else {
                                    if (accumulate) image[ii] += win[wi]; else image[ii] = win[wi];
                                }
                            }
                        }
                    }
                }
            });
        }
    }
}
