package org.mambavision.engine.ops;

import java.util.Arrays;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Shape ops that copy: concat, split, slice, permute, transpose. Negative dimensions count from the end.
 * All of them move blocks of rows: a (rows x run) pattern of contiguous runs, copied or accumulated.
 */
public final class Shapes {
    private static final int GRAIN = 16384;
    private static final int TILE = 32;

    private Shapes() {}

    private static int normDim(String op, int dim, Tensor x) {
        int r = x.rank();
        int d = dim < 0 ? dim + r : dim;
        if (d < 0 || d >= r) throw new IllegalArgumentException(op + ": dim " + dim + " out of range for shape " + x.shapeString());
        return d;
    }

    private static int prod(int[] s, int from, int to) {
        int p = 1;
        for (int i = from; i < to; i++) p *= s[i];
        return p;
    }

    /**
     * For rows r in [0, rows): dst[dstOff + r*dstStride + j] (+)= src[srcOff + r*srcStride + j], j < run.
     */
    private static void copyRuns(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride,
                                 int run, int rows, boolean accumulate) {
        if (run == 0 || rows == 0) return;
        Parallel.forRange(rows, Math.max(1, GRAIN / run), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int s = srcOff + r * srcStride, d = dstOff + r * dstStride;
                if (accumulate) VecMath.addInto(run, src, s, dst, d);
                else System.arraycopy(src, s, dst, d, run);
            }
        });
    }

    // ---- concat / slice / split ------------------------------------------------------------

    public static Tensor concat(int dim, Tensor... xs) {
        if (xs.length == 0) throw new IllegalArgumentException("concat: no tensors");
        Tensor first = xs[0];
        int d = normDim("concat", dim, first);
        int[] shape = first.shape();
        int total = 0;
        for (Tensor x : xs) {
            boolean ok = x.rank() == first.rank();
            for (int i = 0; ok && i < shape.length; i++) if (i != d && x.dim(i) != shape[i]) ok = false;
            if (!ok) throw new IllegalArgumentException("concat: shape " + x.shapeString() + " does not match " + first.shapeString() + " outside dim " + dim);
            total += x.dim(d);
        }
        shape[d] = total;
        Tensor out = Tensor.empty(shape);
        int outer = prod(shape, 0, d), inner = prod(shape, d + 1, shape.length);
        int outRow = total * inner;
        int[] offsets = new int[xs.length];
        int off = 0;
        for (int k = 0; k < xs.length; k++) {
            offsets[k] = off;
            int run = xs[k].dim(d) * inner;
            copyRuns(xs[k].data, 0, run, out.data, off, outRow, run, outer, false);
            off += run;
        }
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(xs)) {
            Object[] args = new Object[xs.length + 1];
            System.arraycopy(xs, 0, args, 0, xs.length);
            args[xs.length] = OpTrace.Attr.i("axis", d);
            tr.op(out, "Concat", args);
        }
        Tape.record(out, () -> {
            for (int k = 0; k < xs.length; k++) {
                if (!xs[k].requiresGrad()) continue;
                int run = xs[k].dim(d) * inner;
                boolean fresh = xs[k].allocateGradForOverwrite();
                copyRuns(out.grad, offsets[k], outRow, xs[k].grad, 0, run, run, outer, !fresh);
            }
        }, xs);
        return out;
    }

    /** x[..., start:end, ...] along {@code dim}, a copy. */
    public static Tensor slice(Tensor x, int dim, int start, int end) {
        int d = normDim("slice", dim, x);
        int[] shape = x.shape();
        if (start < 0 || end > shape[d] || start > end) {
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") out of dim " + dim + " of shape " + x.shapeString());
        }
        int outer = prod(shape, 0, d), inner = prod(shape, d + 1, shape.length);
        int srcRow = shape[d] * inner, run = (end - start) * inner, srcOff = start * inner;
        shape[d] = end - start;
        Tensor out = Tensor.empty(shape);
        copyRuns(x.data, srcOff, srcRow, out.data, 0, run, run, outer, false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.bind(out, tr.slice(x, new long[] {start}, new long[] {end}, new long[] {d}));
        Tape.record(out, () -> copyRuns(out.grad, 0, run, x.gradBuffer(), srcOff, srcRow, run, outer, true), x);
        return out;
    }

    /** Pieces of the given sizes along {@code dim}; the sizes must add up to that dimension. */
    public static Tensor[] split(Tensor x, int dim, int... sizes) {
        int d = normDim("split", dim, x);
        int sum = 0;
        for (int s : sizes) {
            if (s < 0) throw new IllegalArgumentException("split: negative size in " + Arrays.toString(sizes) + " for shape " + x.shapeString());
            sum += s;
        }
        if (sum != x.dim(d)) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " do not add up to dim " + dim + " of shape " + x.shapeString());
        }
        Tensor[] out = new Tensor[sizes.length];
        int start = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = slice(x, d, start, start + sizes[i]);
            start += sizes[i];
        }
        return out;
    }

    // ---- permute / transpose ----------------------------------------------------------------

    public static Tensor transpose(Tensor x, int d0, int d1) {
        int a = normDim("transpose", d0, x), b = normDim("transpose", d1, x);
        int[] perm = new int[x.rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(x, perm);
    }

    /** out.shape[i] = x.shape[dims[i]], an explicit copy. */
    public static Tensor permute(Tensor x, int... dims) {
        int r = x.rank();
        if (dims.length != r) throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " does not match rank of " + x.shapeString());
        int[] perm = new int[r];
        boolean[] seen = new boolean[r];
        for (int i = 0; i < r; i++) {
            int d = dims[i] < 0 ? dims[i] + r : dims[i];
            if (d < 0 || d >= r || seen[d]) throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " is not a permutation for shape " + x.shapeString());
            seen[d] = true;
            perm[i] = d;
        }
        int[] inShape = x.shape(), outShape = new int[r];
        for (int i = 0; i < r; i++) outShape[i] = inShape[perm[i]];
        Tensor out = Tensor.empty(outShape);
        permuteInto(x.data, inShape, perm, out.data, false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.bind(out, tr.transpose(x, Arrays.stream(perm).asLongStream().toArray()));
        Tape.record(out, () -> {
            int[] inv = new int[r];
            for (int i = 0; i < r; i++) inv[perm[i]] = i;
            boolean fresh = x.allocateGradForOverwrite();
            permuteInto(out.grad, outShape, inv, x.grad, !fresh);
        }, x);
        return out;
    }

    /**
     * dst (+)= src permuted: dst has shape inShape[perm[i]]. Dimensions that stay adjacent and in
     * order are merged first, so most layout changes become either row copies or batched 2D transposes.
     */
    static void permuteInto(float[] src, int[] inShape, int[] perm, float[] dst, boolean accumulate) {
        int r = inShape.length;
        if (src.length == 0) return;
        // merge: drop size-1 dims, then join output-adjacent dims that are input-adjacent too
        int[] keep = new int[r];
        int k = 0;
        for (int i = 0; i < r; i++) if (inShape[perm[i]] != 1) keep[k++] = perm[i];
        // groups in output order, each a run of consecutive input dims
        int[] groupStart = new int[k], groupEnd = new int[k]; // inclusive input dim range of each group
        int g = 0;
        for (int i = 0; i < k; i++) {
            if (g > 0 && nextNonUnit(inShape, groupEnd[g - 1]) == keep[i]) {
                groupEnd[g - 1] = keep[i];
            } else {
                groupStart[g] = keep[i];
                groupEnd[g] = keep[i];
                g++;
            }
        }
        int[] inStride = new int[r];
        int st = 1;
        for (int i = r - 1; i >= 0; i--) {
            inStride[i] = st;
            st *= inShape[i];
        }
        int[] size = new int[g], stride = new int[g];
        for (int i = 0; i < g; i++) {
            int s = 1;
            for (int j = groupStart[i]; j <= groupEnd[i]; j++) s *= inShape[j];
            size[i] = s;
            stride[i] = inStride[groupEnd[i]];
        }
        if (g <= 1) { // identity up to unit dims
            Parallel.forRange(src.length, GRAIN, (i0, i1) -> {
                if (accumulate) VecMath.addInto(i1 - i0, src, i0, dst, i0);
                else System.arraycopy(src, i0, dst, i0, i1 - i0);
            });
            return;
        }
        int ng = g;
        if (stride[g - 1] == 1) { // last output dim is contiguous in the input: row copies
            int run = size[g - 1];
            int rows = src.length / run;
            Parallel.forRange(rows, Math.max(1, GRAIN / run), (r0, r1) -> {
                for (int row = r0; row < r1; row++) {
                    int off = offsetOf(row, size, stride, ng - 1);
                    if (accumulate) VecMath.addInto(run, src, off, dst, row * run);
                    else System.arraycopy(src, off, dst, row * run, run);
                }
            });
            return;
        }
        // the input's contiguous dim is some output dim p < g-1: tiled transpose of (p, g-1) per batch
        int p = -1;
        for (int i = 0; i < g; i++) if (stride[i] == 1) p = i;
        int rowsP = size[p], colsL = size[g - 1];
        // output strides
        int[] outStride = new int[g];
        st = 1;
        for (int i = g - 1; i >= 0; i--) {
            outStride[i] = st;
            st *= size[i];
        }
        // batch dims: all but p and g-1
        int[] bSize = new int[g - 2], bIn = new int[g - 2], bOut = new int[g - 2];
        int nb = 0, batches = 1;
        for (int i = 0; i < g; i++) {
            if (i == p || i == g - 1) continue;
            bSize[nb] = size[i];
            bIn[nb] = stride[i];
            bOut[nb] = outStride[i];
            batches *= size[i];
            nb++;
        }
        int tilesP = (rowsP + TILE - 1) / TILE, tilesL = (colsL + TILE - 1) / TILE;
        int tasks = batches * tilesP;
        int inStrideL = stride[g - 1], outStrideP = outStride[p];
        int nbf = nb;
        Parallel.forRange(tasks, Math.max(1, GRAIN / (TILE * colsL)), (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int bIdx = t / tilesP, tp = t % tilesP;
                int inBase = 0, outBase = 0, rem = bIdx;
                for (int j = nbf - 1; j >= 0; j--) {
                    int idx = rem % bSize[j];
                    rem /= bSize[j];
                    inBase += idx * bIn[j];
                    outBase += idx * bOut[j];
                }
                int p0 = tp * TILE, p1 = Math.min(rowsP, p0 + TILE);
                for (int tl = 0; tl < tilesL; tl++) {
                    int l0 = tl * TILE, l1 = Math.min(colsL, l0 + TILE);
                    for (int ip = p0; ip < p1; ip++) {
                        int o = outBase + ip * outStrideP;
                        int in = inBase + ip;
                        if (accumulate) for (int il = l0; il < l1; il++) dst[o + il] += src[in + il * inStrideL];
                        else for (int il = l0; il < l1; il++) dst[o + il] = src[in + il * inStrideL];
                    }
                }
            }
        });
    }

    private static int nextNonUnit(int[] shape, int d) {
        for (int j = d + 1; j < shape.length; j++) if (shape[j] != 1) return j;
        return -1;
    }

    /** Input offset of output row {@code row} over the first {@code n} merged dims. */
    private static int offsetOf(int row, int[] size, int[] stride, int n) {
        int off = 0;
        for (int j = n - 1; j >= 0; j--) {
            off += (row % size[j]) * stride[j];
            row /= size[j];
        }
        return off;
    }
}
