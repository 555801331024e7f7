package org.mambavision.engine.ops;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Batch normalisation over (N, C, H, W) or (N, C), per channel C, as torch.nn.functional.batch_norm.
 *
 * <p>Training (or no running statistics): normalises with the batch mean and biased variance and,
 * when running statistics are given, updates them in place:
 * {@code running = (1 - momentum) * running + momentum * batch}, with the unbiased variance
 * (times m/(m-1), m = N*H*W) for {@code runningVar}. Evaluation: normalises with the running statistics.
 * Statistics are accumulated in double; work is parallel over channels.
 */
public final class BatchNorm2d {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private BatchNorm2d() {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
                                 boolean training, float momentum, float eps) {
        if (x.rank() != 4 && x.rank() != 2) {
            throw new IllegalArgumentException("BatchNorm2d: input must be (N, C, H, W) or (N, C), got " + x.shapeString());
        }
        int n = x.dim(0), c = x.dim(1), plane = x.rank() == 4 ? x.dim(2) * x.dim(3) : 1;
        checkPerChannel("weight", weight, x, c);
        checkPerChannel("bias", bias, x, c);
        checkPerChannel("runningMean", runningMean, x, c);
        checkPerChannel("runningVar", runningVar, x, c);
        boolean batchStats = training || runningMean == null || runningVar == null;
        long m = (long) n * plane;
        if (training && m <= 1) {
            throw new IllegalArgumentException("BatchNorm2d: training needs more than one value per channel, got input " + x.shapeString());
        }
        float[] xd = x.data;
        float[] mean = new float[c], invStd = new float[c];
        Tensor out = Tensor.empty(x.shape());
        float[] od = out.data;
        Parallel.forEach(c, ch -> {
            double mu, var;
            if (batchStats) {
                double s = 0;
                for (int i = 0; i < n; i++) s += sum(xd, (i * c + ch) * plane, plane);
                mu = s / m;
                double ss = 0;
                for (int i = 0; i < n; i++) ss += sumSquaredDeviation(xd, (i * c + ch) * plane, plane, (float) mu);
                var = ss / m;
                if (training && runningMean != null && runningVar != null) {
                    runningMean.data[ch] = (float) ((1 - momentum) * runningMean.data[ch] + momentum * mu);
                    runningVar.data[ch] = (float) ((1 - momentum) * runningVar.data[ch] + momentum * var * m / (m - 1));
                }
            } else {
                mu = runningMean.data[ch];
                var = runningVar.data[ch];
            }
            double is = 1.0 / Math.sqrt(var + eps);
            mean[ch] = (float) mu;
            invStd[ch] = (float) is;
            double scale = weight == null ? is : weight.data[ch] * is;
            double shift = (bias == null ? 0 : bias.data[ch]) - mu * scale;
            for (int i = 0; i < n; i++) {
                int off = (i * c + ch) * plane;
                axpb(xd, off, (float) scale, (float) shift, od, off, plane);
            }
        });
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            if (batchStats) throw new IllegalStateException("BatchNorm2d: a traced forward needs running statistics (eval mode)");
            float[] ones = new float[c], zeros = new float[c];
            java.util.Arrays.fill(ones, 1f);
            tr.op(out, "BatchNormalization", x, weight != null ? weight : tr.constant(ones, c), bias != null ? bias : tr.constant(zeros, c),
                    runningMean, runningVar, OpTrace.Attr.f("epsilon", eps));
        }
        Tape.record(out, () -> {
            float[] g = out.grad;
            boolean freshGx = x.requiresGrad() && x.allocateGradForOverwrite();
            float[] gx = x.requiresGrad() ? x.grad : null;
            float[] gw = weight != null && weight.requiresGrad() ? weight.gradBuffer() : null;
            float[] gb = bias != null && bias.requiresGrad() ? bias.gradBuffer() : null;
            Parallel.forEach(c, ch -> {
                float mu = mean[ch];
                double is = invStd[ch];
                double sg = 0, sgd = 0; // sum(g), sum(g * (x - mean))
                for (int i = 0; i < n; i++) {
                    int off = (i * c + ch) * plane;
                    sg += sum(g, off, plane);
                    sgd += dotDeviation(g, xd, off, plane, mu);
                }
                if (gb != null) gb[ch] += (float) sg;
                if (gw != null) gw[ch] += (float) (sgd * is);
                if (gx == null) return;
                double wv = weight == null ? 1 : weight.data[ch];
                double a = wv * is;
                // Train: dx = w*is/m * (m*g - sum(g) - xhat*sum(g*xhat)), written as a*g + b*(x - mean) + c0.
                double bcoef = batchStats ? -a * is * is * sgd / m : 0;
                double c0 = batchStats ? -a * sg / m : 0;
                for (int i = 0; i < n; i++) {
                    int off = (i * c + ch) * plane;
                    if (freshGx) Arrays.fill(gx, off, off + plane, 0f); // one plane, zeroed in cache
                    addGradient(g, xd, off, plane, (float) a, (float) bcoef, mu, (float) c0, gx);
                }
            });
        }, x, weight, bias);
        return out;
    }

    private static void checkPerChannel(String what, Tensor t, Tensor x, int c) {
        if (t != null && (t.rank() != 1 || t.dim(0) != c)) {
            throw new IllegalArgumentException("BatchNorm2d: " + what + " must be (C) for input " + x.shapeString() + ", got " + t.shapeString());
        }
    }

    // ---- row kernels (Vector API, scalar tail) ----------------------------------------------

    private static double sum(float[] a, int off, int len) {
        int i = 0, bound = S.loopBound(len);
        FloatVector acc = FloatVector.zero(S);
        for (; i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, a, off + i));
        double s = VecMath.sumLanes(acc);
        for (; i < len; i++) s += a[off + i];
        return s;
    }

    private static double sumSquaredDeviation(float[] a, int off, int len, float mu) {
        int i = 0, bound = S.loopBound(len);
        FloatVector acc = FloatVector.zero(S), m = FloatVector.broadcast(S, mu);
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, a, off + i).sub(m);
            acc = d.fma(d, acc);
        }
        double s = VecMath.sumLanes(acc);
        for (; i < len; i++) {
            double d = a[off + i] - mu;
            s += d * d;
        }
        return s;
    }

    /** sum(g * (x - mu)) over one row. */
    private static double dotDeviation(float[] g, float[] x, int off, int len, float mu) {
        int i = 0, bound = S.loopBound(len);
        FloatVector acc = FloatVector.zero(S), m = FloatVector.broadcast(S, mu);
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(m);
            acc = d.fma(FloatVector.fromArray(S, g, off + i), acc);
        }
        double s = VecMath.sumLanes(acc);
        for (; i < len; i++) s += (double) g[off + i] * (x[off + i] - mu);
        return s;
    }

    /** out = x * scale + shift over one row. */
    private static void axpb(float[] x, int off, float scale, float shift, float[] out, int outOff, int len) {
        int i = 0, bound = S.loopBound(len);
        FloatVector sc = FloatVector.broadcast(S, scale), sh = FloatVector.broadcast(S, shift);
        for (; i < bound; i += S.length()) FloatVector.fromArray(S, x, off + i).fma(sc, sh).intoArray(out, outOff + i);
        for (; i < len; i++) out[outOff + i] = x[off + i] * scale + shift;
    }

    /** gx += a*g + b*(x - mu) + c0 over one row. */
    private static void addGradient(float[] g, float[] x, int off, int len, float a, float b, float mu, float c0, float[] gx) {
        int i = 0, bound = S.loopBound(len);
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        FloatVector vm = FloatVector.broadcast(S, mu), vc = FloatVector.broadcast(S, c0);
        for (; i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(vm);
            FloatVector r = FloatVector.fromArray(S, g, off + i).fma(va, d.fma(vb, vc));
            r.add(FloatVector.fromArray(S, gx, off + i)).intoArray(gx, off + i);
        }
        for (; i < len; i++) gx[off + i] += a * g[off + i] + b * (x[off + i] - mu) + c0;
    }
}
