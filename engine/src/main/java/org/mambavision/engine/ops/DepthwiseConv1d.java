package org.mambavision.engine.ops;

import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

/** TEMP stand-in until the scan branch lands. */
public final class DepthwiseConv1d {
    public enum Padding { SAME, CAUSAL }
    public static Tensor forward(Tensor x, Tensor w, Tensor bias, Padding p) {
        int B = x.dim(0), C = x.dim(1), L = x.dim(2), K = w.numel() / C;
        int left = p == Padding.SAME ? (K - 1) / 2 : K - 1;
        Tensor y = Tensor.zeros(B, C, L);
        for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) for (int t = 0; t < L; t++) {
            float s = bias == null ? 0 : bias.data[c];
            for (int j = 0; j < K; j++) { int i = t + j - left; if (i >= 0 && i < L) s += w.data[c * K + j] * x.data[(b * C + c) * L + i]; }
            y.data[(b * C + c) * L + t] = s;
        }
        Tape.record(y, () -> {
            for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) for (int t = 0; t < L; t++) {
                float g = y.grad[(b * C + c) * L + t];
                if (bias != null && bias.requiresGrad()) bias.gradBuffer()[c] += g;
                for (int j = 0; j < K; j++) { int i = t + j - left; if (i >= 0 && i < L) {
                    if (x.requiresGrad()) x.gradBuffer()[(b * C + c) * L + i] += g * w.data[c * K + j];
                    if (w.requiresGrad()) w.gradBuffer()[c * K + j] += g * x.data[(b * C + c) * L + i]; } }
            }
        }, x, w, bias);
        return y;
    }
}
