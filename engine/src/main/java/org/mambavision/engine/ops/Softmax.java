package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/** Softmax over the last dimension, max-subtracted; rows run in parallel. */
public final class Softmax {
    private static final VectorSpecies<Float> S = VecMath.S;
    private static final int GRAIN = 16384;

    private Softmax() {}

    public static Tensor forward(Tensor x) {
        if (x.rank() == 0) throw new IllegalArgumentException("Softmax: needs at least one dimension, got shape " + x.shapeString());
        int c = x.dim(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        Tensor out = Tensor.empty(x.shape());
        float[] xd = x.data, y = out.data;
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, c)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                VecMath.softmax(xd, r * c, y, r * c, c);
            }
        });
        OpTrace tr = OpTrace.active();
        if (tr != null) tr.op(out, "Softmax", x, OpTrace.Attr.i("axis", -1));
        Tape.record(out, () -> {
            float[] g = out.grad, gx = x.gradBuffer();
            // dx = y * (g - sum(g * y))
            Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, c)), (r0, r1) -> {
                for (int r = r0; r < r1; r++) softmaxBackwardRow(y, g, gx, r * c, c);
            });
        }, x);
        return out;
    }

    /** gx[off..] += y * (g - dot(g, y)) for one row; shared with Attention. */
    static void softmaxBackwardRow(float[] y, float[] g, float[] gx, int off, int n) {
        float dot = (float) VecMath.dot(g, off, y, off, n);
        int j = 0, bound = S.loopBound(n);
        for (; j < bound; j += S.length()) {
            FloatVector yv = FloatVector.fromArray(S, y, off + j);
            yv.mul(FloatVector.fromArray(S, g, off + j).sub(dot)).add(FloatVector.fromArray(S, gx, off + j)).intoArray(gx, off + j);
        }
        for (; j < n; j++) gx[off + j] += y[off + j] * (g[off + j] - dot);
    }
}
