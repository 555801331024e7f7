package org.mambavision.engine.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;

/**
 * Broadcasting elementwise kernels and broadcast-reductions on raw row-major arrays.
 *
 * <p>Shapes are first simplified: dimensions of size 1 in the output are dropped and neighbouring
 * dimensions with the same broadcast pattern are merged. (B,N,C) * (C) becomes rows of C with both
 * operands contiguous; (B,C,H,W) + (1,C,1,1) becomes rows of H*W against one scalar of b. The
 * innermost merged dimension is then a vector loop, the outer ones an index over rows.
 */
public final class Broadcast {
    static { JitInlining.install(); } // vector helpers inlined by C2, see there
    private static final VectorSpecies<Float> S = VecMath.S;
    private static final int GRAIN = 16384;

    private Broadcast() {}

    /** out = a + s * b, or out = s * a * b. */
    public enum Op { AXPY, MUL }

    /** numpy broadcast of two shapes; null when incompatible. */
    public static int[] broadcastShape(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1) return null;
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** {@code shape} right-aligned to {@code rank} with leading ones. */
    public static int[] align(int[] shape, int rank) {
        int[] out = new int[rank];
        Arrays.fill(out, 1);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    /**
     * out[i] (+)= op(a[ia], b[ib]) over the broadcast of a and b to {@code outShape}.
     * {@code aShape}, {@code bShape} may have lower rank (right-aligned). With {@code accumulate}
     * the result is added into out; out may be the same array as a when a has the output's shape.
     */
    public static void binary(Op op, float s, float[] a, int[] aShape, float[] b, int[] bShape,
                              float[] out, int[] outShape, boolean accumulate) {
        int rank = outShape.length;
        int[] as = align(aShape, rank), bs = align(bShape, rank);
        // merged dims: size, stride in a, stride in b
        int[] size = new int[rank], strA = new int[rank], strB = new int[rank];
        int m = 0;
        int prevPattern = -1;
        for (int d = 0; d < rank; d++) {
            if (outShape[d] == 1) continue;
            int pattern = (as[d] == 1 ? 0 : 1) | (bs[d] == 1 ? 0 : 2);
            if (pattern == prevPattern) size[m - 1] *= outShape[d];
            else {
                size[m] = outShape[d];
                strA[m] = pattern & 1;
                strB[m] = (pattern >> 1) & 1;
                m++;
                prevPattern = pattern;
            }
        }
        int n = numel(outShape);
        if (n == 0) return;
        if (m == 0) { // everything is one element
            store1(out, 0, apply(op, s, a[0], b[0]), accumulate);
            return;
        }
        // element strides of the merged dims (row-major over the merged shape)
        long ea = 1, eb = 1;
        int[] stepA = new int[m], stepB = new int[m];
        for (int d = m - 1; d >= 0; d--) {
            stepA[d] = strA[d] == 1 ? (int) ea : 0;
            stepB[d] = strB[d] == 1 ? (int) eb : 0;
            if (strA[d] == 1) ea *= size[d];
            if (strB[d] == 1) eb *= size[d];
        }
        int inner = size[m - 1];
        boolean contA = strA[m - 1] == 1, contB = strB[m - 1] == 1;
        int rows = n / inner;
        if (rows == 1) {
            Parallel.forRange(inner, GRAIN, (i0, i1) ->
                    run(op, s, a, contA ? i0 : 0, contA, b, contB ? i0 : 0, contB, out, i0, i1 - i0, accumulate));
            return;
        }
        int mm = m;
        Parallel.forRange(rows, Math.max(1, GRAIN / inner), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int rem = r, offA = 0, offB = 0;
                for (int d = mm - 2; d >= 0; d--) {
                    int idx = rem % size[d];
                    rem /= size[d];
                    offA += idx * stepA[d];
                    offB += idx * stepB[d];
                }
                run(op, s, a, offA, contA, b, offB, contB, out, r * inner, inner, accumulate);
            }
        });
    }

    private static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return (int) n;
    }

    private static float apply(Op op, float s, float x, float y) {
        return op == Op.AXPY ? x + s * y : s * x * y;
    }

    private static FloatVector apply(Op op, float s, FloatVector x, FloatVector y) {
        return op == Op.AXPY ? y.lanewise(VectorOperators.FMA, s, x) : x.mul(y).mul(s);
    }

    private static void store1(float[] out, int i, float v, boolean accumulate) {
        if (accumulate) out[i] += v;
        else out[i] = v;
    }

    private static void store(FloatVector v, float[] out, int i, boolean accumulate) {
        if (accumulate) v.add(FloatVector.fromArray(S, out, i)).intoArray(out, i);
        else v.intoArray(out, i);
    }

    /** One contiguous run of the output; an operand is either contiguous or a single repeated value. */
    private static void run(Op op, float s, float[] a, int offA, boolean contA, float[] b, int offB, boolean contB,
                            float[] out, int offO, int len, boolean accumulate) {
        int i = 0, bound = S.loopBound(len);
        if (contA && contB) {
            for (; i < bound; i += S.length()) {
                store(apply(op, s, FloatVector.fromArray(S, a, offA + i), FloatVector.fromArray(S, b, offB + i)), out, offO + i, accumulate);
            }
            for (; i < len; i++) store1(out, offO + i, apply(op, s, a[offA + i], b[offB + i]), accumulate);
        } else if (contA) {
            float bv = b[offB];
            FloatVector vb = FloatVector.broadcast(S, bv);
            for (; i < bound; i += S.length()) {
                store(apply(op, s, FloatVector.fromArray(S, a, offA + i), vb), out, offO + i, accumulate);
            }
            for (; i < len; i++) store1(out, offO + i, apply(op, s, a[offA + i], bv), accumulate);
        } else if (contB) {
            float av = a[offA];
            FloatVector va = FloatVector.broadcast(S, av);
            for (; i < bound; i += S.length()) {
                store(apply(op, s, va, FloatVector.fromArray(S, b, offB + i)), out, offO + i, accumulate);
            }
            for (; i < len; i++) store1(out, offO + i, apply(op, s, av, b[offB + i]), accumulate);
        } else {
            float v = apply(op, s, a[offA], b[offB]);
            for (; i < len; i++) store1(out, offO + i, v, accumulate);
        }
    }

    // ---- reductions ------------------------------------------------------------------------

    /**
     * dst += scale * (src summed over the dimensions where {@code dstShape} is 1 and
     * {@code srcShape} is not). Same rank after right-alignment; sums accumulate in double.
     */
    public static void reduceSum(float[] src, int[] srcShape, float[] dst, int[] dstShape, float scale) {
        int rank = srcShape.length;
        int[] ds = align(dstShape, rank);
        int[] size = new int[rank];
        boolean[] reduced = new boolean[rank];
        int m = 0;
        for (int d = 0; d < rank; d++) {
            if (srcShape[d] == 1) continue;
            boolean r = ds[d] == 1;
            if (m > 0 && reduced[m - 1] == r) size[m - 1] *= srcShape[d];
            else {
                size[m] = srcShape[d];
                reduced[m] = r;
                m++;
            }
        }
        if (src.length == 0) return;
        if (m == 0) {
            dst[0] += scale * src[0];
        } else if (m == 1 && !reduced[0]) {
            VecMath.axpy(size[0], scale, src, 0, dst, 0);
        } else if (m == 1) {
            dst[0] += (float) (scale * sumParallel(src, 0, size[0]));
        } else if (reduced[m - 1] && (m == 2 || (m == 3 && reduced[0]))) {
            // [K, R] or [R0, K, R1]: each kept index owns contiguous runs of R1
            int r0 = m == 3 ? size[0] : 1, k = size[m - 2], r1 = size[m - 1];
            Parallel.forRange(k, Math.max(1, GRAIN / (r0 * r1)), (k0, k1) -> {
                for (int j = k0; j < k1; j++) {
                    double t = 0;
                    for (int i = 0; i < r0; i++) t += VecMath.sum(src, (i * k + j) * r1, r1);
                    dst[j] += (float) (scale * t);
                }
            });
        } else if (!reduced[m - 1] && (m == 2 || (m == 3 && !reduced[0]))) {
            // [R, K] or [K0, R, K1]: column sums of R x K1 blocks
            int k0 = m == 3 ? size[0] : 1, r = size[m - 2], k1 = size[m - 1];
            int block = 256;
            int colBlocks = (k1 + block - 1) / block;
            Parallel.forEach(k0 * colBlocks, task -> {
                int o = task / colBlocks, c0 = (task % colBlocks) * block, c1 = Math.min(k1, c0 + block);
                double[] acc = new double[c1 - c0];
                for (int i = 0; i < r; i++) {
                    int base = (o * r + i) * k1;
                    for (int c = c0; c < c1; c++) acc[c - c0] += src[base + c];
                }
                for (int c = c0; c < c1; c++) dst[o * k1 + c] += (float) (scale * acc[c - c0]);
            });
        } else {
            reduceGeneric(src, srcShape, ds, dst, scale);
        }
    }

    private static double sumParallel(float[] a, int off, int n) {
        int tasks = Math.max(1, Math.min(Parallel.threads() * 4, n / GRAIN));
        double[] part = new double[tasks];
        Parallel.forEach(tasks, t -> {
            int s = (int) ((long) n * t / tasks), e = (int) ((long) n * (t + 1) / tasks);
            part[t] = VecMath.sum(a, off + s, e - s);
        });
        double total = 0;
        for (double p : part) total += p;
        return total;
    }

    private static void reduceGeneric(float[] src, int[] srcShape, int[] dstShape, float[] dst, float scale) {
        int rank = srcShape.length;
        int[] dstStride = new int[rank];
        int st = 1;
        for (int d = rank - 1; d >= 0; d--) {
            dstStride[d] = dstShape[d] == 1 ? 0 : st;
            st *= dstShape[d];
        }
        double[] acc = new double[dst.length];
        int[] idx = new int[rank];
        int o = 0;
        for (int i = 0; i < src.length; i++) {
            acc[o] += src[i];
            for (int d = rank - 1; d >= 0; d--) { // odometer
                idx[d]++;
                o += dstStride[d];
                if (idx[d] < srcShape[d]) break;
                o -= dstStride[d] * idx[d];
                idx[d] = 0;
            }
        }
        for (int j = 0; j < dst.length; j++) dst[j] += (float) (scale * acc[j]);
    }
}
