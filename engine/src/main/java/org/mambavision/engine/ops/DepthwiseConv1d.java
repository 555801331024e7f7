package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Depthwise 1-D convolution, stride 1, zero padding (PyTorch Conv1d with groups = channels).
 *
 * <pre>
 * x: (B, C, L);  weight: (C, 1, K) as PyTorch stores it, or (C, K);  bias: (C) or null
 * out[b, c, t] = bias[c] + sum_j weight[c, j] * x[b, c, t + j - left]   (zero outside [0, L)),  output length L
 * SAME:   left = (K - 1) / 2, the rest on the right (PyTorch padding='same': an even K puts the extra zero on the right)
 * CAUSAL: left = K - 1
 * </pre>
 */
public final class DepthwiseConv1d {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    public enum Padding { SAME, CAUSAL }

    private DepthwiseConv1d() {}

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Padding padding) {
        if (x.rank() != 3) throw new IllegalArgumentException("DepthwiseConv1d: x must be (B, C, L), got " + x.shapeString() + " vs weight " + weight.shapeString());
        int batch = x.dim(0), C = x.dim(1), L = x.dim(2);
        boolean pytorchLayout = weight.rank() == 3 && weight.dim(1) == 1;
        if (!(pytorchLayout || weight.rank() == 2) || weight.dim(0) != C || weight.dim(-1) < 1) {
            throw new IllegalArgumentException("DepthwiseConv1d: weight must be (C, 1, K) or (C, K), got " + weight.shapeString() + " vs x " + x.shapeString());
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != C)) {
            throw new IllegalArgumentException("DepthwiseConv1d: bias must be (C), got " + bias.shapeString() + " vs x " + x.shapeString());
        }
        int K = weight.dim(-1);
        int left = padding == Padding.SAME ? (K - 1) / 2 : K - 1;
        float[] xd = x.data, w = weight.data, bd = bias == null ? null : bias.data;
        Tensor out = Tensor.zeros(batch, C, L);
        float[] od = out.data;
        Parallel.forRange(batch * C, Math.max(1, 16384 / Math.max(1, L * K)), (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int c = row % C, off = row * L;
                if (bd != null) java.util.Arrays.fill(od, off, off + L, bd[c]);
                for (int j = 0; j < K; j++) {
                    // t + j - left in [0, L)
                    int t0 = Math.max(0, left - j), t1 = Math.min(L, L + left - j);
                    if (t0 < t1) axpy(w[c * K + j], xd, off + t0 + j - left, od, off + t0, t1 - t0);
                }
            }
        });
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) {
            // a grouped Conv (one group per channel) with the weight as (C, 1, K)
            String w3 = tr.derived(weight, "", () -> weight.data.clone(), C, 1, K);
            tr.op(out, "Conv", x, w3, bias, OpTrace.Attr.i("group", C), OpTrace.Attr.ints("kernel_shape", K),
                    OpTrace.Attr.ints("pads", left, K - 1 - left));
        }

        Tape.record(out, () -> {
            float[] g = out.grad;
            float[] gx = x.requiresGrad() ? x.gradBuffer() : null;
            float[] gw = weight.requiresGrad() ? weight.gradBuffer() : null;
            float[] gb = bias != null && bias.requiresGrad() ? bias.gradBuffer() : null;
            // One task per channel: it owns gw[c], gb[c] and the gx rows of channel c, so no reduction across tasks.
            Parallel.forRange(C, Math.max(1, 16384 / Math.max(1, batch * L * K)), (c0, c1) -> {
                for (int c = c0; c < c1; c++) {
                    for (int bi = 0; bi < batch; bi++) {
                        int off = (bi * C + c) * L;
                        for (int j = 0; j < K; j++) {
                            int t0 = Math.max(0, left - j), t1 = Math.min(L, L + left - j);
                            if (t0 >= t1) continue;
                            int xOff = off + t0 + j - left;
                            if (gx != null) axpy(w[c * K + j], g, off + t0, gx, xOff, t1 - t0);
                            if (gw != null) gw[c * K + j] += dot(g, off + t0, xd, xOff, t1 - t0);
                        }
                        if (gb != null) gb[c] += sum(g, off, L);
                    }
                }
            });
        }, x, weight, bias);
        return out;
    }

    /** dst[dOff + i] += a * src[sOff + i] for i in [0, len). */
    private static void axpy(float a, float[] src, int sOff, float[] dst, int dOff, int len) {
        FloatVector av = FloatVector.broadcast(S, a);
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += V) {
            FloatVector.fromArray(S, src, sOff + i).fma(av, FloatVector.fromArray(S, dst, dOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < len; i++) dst[dOff + i] += a * src[sOff + i];
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += V) {
            acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        }
        float s = VecMath.sumLanes(acc);
        for (; i < len; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    private static float sum(float[] a, int off, int len) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(len); i < bound; i += V) acc = acc.add(FloatVector.fromArray(S, a, off + i));
        float s = VecMath.sumLanes(acc);
        for (; i < len; i++) s += a[off + i];
        return s;
    }
}
