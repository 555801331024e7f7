package org.mambavision.engine.ops;

import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;

/**
 * Fully connected layer y = x W^T + b with PyTorch's weight layout.
 *
 * <p>x is (..., in), weight (out, in), bias (out) or null; y is (..., out). All leading dimensions
 * are flattened into R rows, so the forward and each gradient is a single GEMM.
 */
public final class Linear {
    private Linear() {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias) {
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("Linear: input " + x.shapeString() + " does not match weight " + weight.shapeString() + " (out, in)");
        }
        int in = weight.dim(1), outF = weight.dim(0);
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outF)) {
            throw new IllegalArgumentException("Linear: bias " + bias.shapeString() + " does not match weight " + weight.shapeString());
        }
        int[] outShape = x.shape();
        outShape[outShape.length - 1] = outF;
        Tensor y = Tensor.zeros(outShape);
        int R = in == 0 ? y.numel() / Math.max(1, outF) : x.numel() / in;
        float[] Y = y.data;
        if (bias != null) {
            float[] b = bias.data;
            for (int r = 0; r < R; r++) System.arraycopy(b, 0, Y, r * outF, outF);
        }
        Gemm.sgemm(false, true, R, outF, in, x.data, 0, in, weight.data, 0, in, bias != null ? 1f : 0f, Y, 0, outF);

        Tape.record(y, () -> {
            float[] G = y.grad;
            if (x.requiresGrad()) {
                Gemm.sgemm(false, false, R, in, outF, G, 0, outF, weight.data, 0, in, 1f, x.gradBuffer(), 0, in);
            }
            if (weight.requiresGrad()) {
                Gemm.sgemm(true, false, outF, in, R, G, 0, outF, x.data, 0, in, 1f, weight.gradBuffer(), 0, in);
            }
            if (bias != null && bias.requiresGrad()) {
                addColumnSums(G, R, outF, bias.gradBuffer());
            }
        }, x, weight, bias);
        return y;
    }

    /** acc[j] += sum_r g[r*cols + j]; each task owns a column range and walks the rows in order. */
    static void addColumnSums(float[] g, int rows, int cols, float[] acc) {
        int grain = Math.max(16, (int) Math.min(cols, (1L << 16) / Math.max(1, rows)));
        Parallel.forRange(cols, grain, (j0, j1) -> {
            float[] s = new float[j1 - j0];
            for (int r = 0; r < rows; r++) {
                int o = r * cols + j0;
                for (int j = 0; j < s.length; j++) s[j] += g[o + j];
            }
            for (int j = 0; j < s.length; j++) acc[j0 + j] += s[j];
        });
    }
}
