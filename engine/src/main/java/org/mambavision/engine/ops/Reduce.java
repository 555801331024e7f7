package org.mambavision.engine.ops;

import java.util.Arrays;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Broadcast;

/**
 * Sums and means over dimensions (double accumulation). Reducing every dimension without keepDim
 * gives a rank-0 scalar. No dims given means all dims, as in PyTorch.
 */
public final class Reduce {
    private Reduce() {}

    public static Tensor sum(Tensor x, boolean keepDim, int... dims) { return reduce("sum", x, keepDim, false, dims); }

    public static Tensor mean(Tensor x, boolean keepDim, int... dims) { return reduce("mean", x, keepDim, true, dims); }

    public static Tensor sumAll(Tensor x) { return reduce("sumAll", x, false, false); }

    public static Tensor meanAll(Tensor x) { return reduce("meanAll", x, false, true); }

    private static Tensor reduce(String op, Tensor x, boolean keepDim, boolean mean, int... dims) {
        int r = x.rank();
        int[] inShape = x.shape();
        boolean[] reduced = new boolean[r];
        if (dims.length == 0) Arrays.fill(reduced, true);
        for (int d : dims) {
            int n = d < 0 ? d + r : d;
            if (n < 0 || n >= r || reduced[n]) {
                throw new IllegalArgumentException(op + ": dims " + Arrays.toString(dims) + " invalid for shape " + x.shapeString());
            }
            reduced[n] = true;
        }
        int[] kept = new int[r]; // keepDim layout, used by the kernels
        int count = 1, outRank = 0;
        for (int i = 0; i < r; i++) {
            kept[i] = reduced[i] ? 1 : inShape[i];
            if (reduced[i]) count *= inShape[i];
            else outRank++;
        }
        int[] outShape;
        if (keepDim) outShape = kept;
        else {
            outShape = new int[outRank];
            for (int i = 0, j = 0; i < r; i++) if (!reduced[i]) outShape[j++] = inShape[i];
        }
        float scale = mean ? (count == 0 ? Float.NaN : 1f / count) : 1f;
        Tensor out = Tensor.zeros(outShape);
        if (x.numel() > 0) Broadcast.reduceSum(x.data, inShape, out.data, kept, scale);
        else if (mean) Arrays.fill(out.data, Float.NaN);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            long[] axes = new long[r - outRank];
            for (int i = 0, j = 0; i < r; i++) if (reduced[i]) axes[j++] = i;
            tr.bind(out, tr.reduce(mean ? "ReduceMean" : "ReduceSum", x, keepDim, axes));
        }
        Tape.record(out, () -> Broadcast.binary(Broadcast.Op.AXPY, scale, x.gradBuffer(), inShape, out.grad, kept,
                x.gradBuffer(), inShape, false), x);
        return out;
    }
}
