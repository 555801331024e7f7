package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * LayerNorm over the last dimension (biased variance, as PyTorch): y = (x - mean) / sqrt(var + eps) * w + b.
 * Rows run in parallel; the backward keeps per-row mean and 1/std, and sums dw, db through per-chunk
 * partials added in chunk order.
 */
public final class LayerNorm {
    private static final VectorSpecies<Float> S = VecMath.S;
    private static final int GRAIN = 16384;

    private LayerNorm() {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, float eps) {
        if (x.rank() == 0) throw new IllegalArgumentException("LayerNorm: input must have a last dimension, got shape " + x.shapeString());
        int c = x.dim(-1);
        if (weight != null && (weight.rank() != 1 || weight.dim(0) != c)) {
            throw new IllegalArgumentException("LayerNorm: weight " + weight.shapeString() + " does not match input " + x.shapeString());
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != c)) {
            throw new IllegalArgumentException("LayerNorm: bias " + bias.shapeString() + " does not match input " + x.shapeString());
        }
        int rows = c == 0 ? 0 : x.numel() / c;
        boolean save = Tape.needsGrad(x, weight, bias);
        float[] mean = save ? new float[rows] : null, rstd = save ? new float[rows] : null;
        Tensor out = Tensor.empty(x.shape());
        float[] xd = x.data, y = out.data;
        float[] w = weight == null ? null : weight.data, b = bias == null ? null : bias.data;
        int grain = Math.max(1, GRAIN / Math.max(1, c));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * c;
                float mu = (float) (VecMath.sum(xd, off, c) / c);
                float rs = (float) (1.0 / Math.sqrt(sumSquaredDeviation(xd, off, c, mu) / c + eps));
                normalizeRow(xd, off, c, mu, rs, w, b, y);
                if (save) {
                    mean[r] = mu;
                    rstd[r] = rs;
                }
            }
        });
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            float[] ones = new float[c];
            java.util.Arrays.fill(ones, 1f);
            tr.op(out, "LayerNormalization", x, weight != null ? weight : tr.constant(ones, c), bias,
                    OpTrace.Attr.i("axis", -1), OpTrace.Attr.f("epsilon", eps));
        }
        Tape.record(out, () -> backward(xd, out.grad, mean, rstd, rows, c, x, weight, bias), x, weight, bias);
        return out;
    }

    private static double sumSquaredDeviation(float[] x, int off, int n, float mu) {
        int i = 0, bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(mu);
            acc = d.fma(d, acc);
        }
        double s = VecMath.sumLanes(acc);
        for (; i < n; i++) {
            double d = x[off + i] - mu;
            s += d * d;
        }
        return s;
    }

    private static void normalizeRow(float[] x, int off, int n, float mu, float rs, float[] w, float[] b, float[] y) {
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, off + i).sub(mu).mul(rs);
            if (w != null) v = v.mul(FloatVector.fromArray(S, w, i));
            if (b != null) v = v.add(FloatVector.fromArray(S, b, i));
            v.intoArray(y, off + i);
        }
        for (; i < n; i++) {
            float v = (x[off + i] - mu) * rs;
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            y[off + i] = v;
        }
    }

    private static void backward(float[] xd, float[] g, float[] mean, float[] rstd, int rows, int c,
                                 Tensor x, Tensor weight, Tensor bias) {
        float[] w = weight == null ? null : weight.data;
        // A fresh input gradient is assigned rather than zero-filled and added to (no pass of its own).
        boolean fresh = x.requiresGrad() && x.allocateGradForOverwrite();
        float[] gx = x.requiresGrad() ? x.grad : null;
        boolean needW = weight != null && weight.requiresGrad(), needB = bias != null && bias.requiresGrad();
        int chunks = Math.max(1, Math.min(rows, Math.min(Parallel.threads() * 2, (int) ((long) rows * c / GRAIN) + 1)));
        float[][] partW = needW ? new float[chunks][c] : null, partB = needB ? new float[chunks][c] : null;
        Parallel.forEach(chunks, k -> {
            int r0 = (int) ((long) rows * k / chunks), r1 = (int) ((long) rows * (k + 1) / chunks);
            float[] xhat = new float[c], dxhat = new float[c];
            float[] pw = needW ? partW[k] : null, pb = needB ? partB[k] : null;
            for (int r = r0; r < r1; r++) {
                int off = r * c;
                float mu = mean[r], rs = rstd[r];
                int i = 0, iBound = S.loopBound(c);
                for (; i < iBound; i += S.length()) {
                    FloatVector.fromArray(S, xd, off + i).sub(mu).mul(rs).intoArray(xhat, i);
                    FloatVector gv = FloatVector.fromArray(S, g, off + i);
                    (w == null ? gv : gv.mul(FloatVector.fromArray(S, w, i))).intoArray(dxhat, i);
                }
                for (; i < c; i++) {
                    xhat[i] = (xd[off + i] - mu) * rs;
                    dxhat[i] = w == null ? g[off + i] : g[off + i] * w[i];
                }
                float a = 0, bb = 0;
                if (gx != null) {
                    a = (float) (VecMath.sum(dxhat, 0, c) / c);
                    bb = (float) (VecMath.dot(dxhat, 0, xhat, 0, c) / c);
                }
                // One pass for dx = rstd * (dxhat - a - xhat * b), dw += g * xhat and db += g.
                int j = 0, bound = S.loopBound(c);
                for (; j < bound; j += S.length()) {
                    FloatVector xh = FloatVector.fromArray(S, xhat, j), gv = FloatVector.fromArray(S, g, off + j);
                    if (gx != null) {
                        FloatVector v = FloatVector.fromArray(S, dxhat, j).sub(a).sub(xh.mul(bb)).mul(rs);
                        if (fresh) v.intoArray(gx, off + j);
                        else v.add(FloatVector.fromArray(S, gx, off + j)).intoArray(gx, off + j);
                    }
                    if (pw != null) gv.fma(xh, FloatVector.fromArray(S, pw, j)).intoArray(pw, j);
                    if (pb != null) gv.add(FloatVector.fromArray(S, pb, j)).intoArray(pb, j);
                }
                for (; j < c; j++) {
                    if (gx != null) {
                        float v = rs * (dxhat[j] - a - xhat[j] * bb);
                        gx[off + j] = fresh ? v : gx[off + j] + v;
                    }
                    if (pw != null) pw[j] += g[off + j] * xhat[j];
                    if (pb != null) pb[j] += g[off + j];
                }
            }
        });
        if (needW) sumPartials(partW, weight.gradBuffer());
        if (needB) sumPartials(partB, bias.gradBuffer());
    }

    private static void sumPartials(float[][] parts, float[] dst) {
        for (float[] p : parts) VecMath.addInto(dst.length, p, 0, dst, 0);
    }
}
