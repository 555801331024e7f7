package org.mambavision.engine.ops;

import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;

/** TEMP stand-in until the gemm branch lands. */
public final class Linear {
    public static Tensor forward(Tensor x, Tensor w, Tensor b) {
        int in = w.dim(1), out = w.dim(0), rows = x.numel() / in;
        int[] s = x.shape();
        s[s.length - 1] = out;
        Tensor y = Tensor.zeros(s);
        Gemm.sgemm(false, true, rows, out, in, x.data, 0, in, w.data, 0, in, 0f, y.data, 0, out);
        if (b != null) for (int r = 0; r < rows; r++) for (int o = 0; o < out; o++) y.data[r * out + o] += b.data[o];
        Tape.record(y, () -> {
            float[] g = y.grad;
            if (x.requiresGrad()) Gemm.sgemm(false, false, rows, in, out, g, 0, out, w.data, 0, in, 1f, x.gradBuffer(), 0, in);
            if (w.requiresGrad()) Gemm.sgemm(true, false, out, in, rows, g, 0, out, x.data, 0, in, 1f, w.gradBuffer(), 0, in);
            if (b != null && b.requiresGrad()) { float[] gb = b.gradBuffer(); for (int r = 0; r < rows; r++) for (int o = 0; o < out; o++) gb[o] += g[r * out + o]; }
        }, x, w, b);
        return y;
    }
}
