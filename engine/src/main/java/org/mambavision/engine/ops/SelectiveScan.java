package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * The selective scan of Mamba (mamba_ssm {@code selective_scan_fn} semantics, no z gate), fused.
 *
 * <pre>
 * u, delta: (b, d, l);  A: (d, n);  B, C: (b, n, l) shared over d;  D, deltaBias: (d) or null
 * dt = delta + deltaBias;  if softplus: dt = dt &lt;= 20 ? log1p(exp(dt)) : dt
 * h = 0;  for t: h = exp(dt[t] A) h + dt[t] B[t] u[t];  y[t] = sum_n C[n,t] h[n];   out = y + D u
 * </pre>
 *
 * <p>Layout of the kernel: one task is a batch element and a group of channel blocks; a channel block is
 * {@code V} channels (one vector). Its inputs are transposed to time-major scratch ({@code [t][lane]}),
 * and the scan runs two state indices {@code k} at a time over the whole sequence, so each state of a
 * block is one vector in a register and the recurrence never needs a horizontal reduction.
 * {@code exp(dt A)} is evaluated as {@code 2^(dt * A log2 e)} with a polynomial (as the CUDA kernel does),
 * in a separate pass per state index into an {@code l x V} buffer; the recurrence pass then reads it.
 * The hot loops are small methods taking arrays, never vectors, so C2 inlines the Vector API calls
 * reliably and no vector is boxed.
 *
 * <p>Backward: nothing but the inputs is saved. For each block and state index the forward of that one
 * state lane is recomputed over the sequence into {@code l x V} buffers (h and exp(dt A)), then swept in reverse.
 * That costs one extra forward, the same as checkpointing every 16-32 steps and recomputing the chunks,
 * but needs no checkpoint memory at all. Gradients of A, B, C, D and deltaBias are reductions over tasks:
 * each task writes its own partials, summed afterwards in a fixed order, so results are deterministic
 * and do not depend on the thread count (the task split does not either).
 */
public final class SelectiveScan {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final float LOG2E = 1.4426950408889634f;
    private static final FloatVector LOG2E_V = FloatVector.broadcast(S, LOG2E);
    /** softplus(x) = x above this, as in mamba_ssm. */
    private static final float SOFTPLUS_THRESHOLD = 20f;
    /** Enough tasks to balance a few threads; fixed so that the reduction order does not depend on the pool. */
    private static final int MIN_TASKS = 16;

    private SelectiveScan() {}

    public static Tensor forward(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D, Tensor deltaBias, boolean deltaSoftplus) {
        if (u.rank() != 3) throw new IllegalArgumentException("SelectiveScan: u must be (b, d, l), got " + u.shapeString());
        int b = u.dim(0), d = u.dim(1), l = u.dim(2);
        if (!delta.sameShape(u)) throw new IllegalArgumentException("SelectiveScan: delta " + delta.shapeString() + " vs u " + u.shapeString());
        if (A.rank() != 2 || A.dim(0) != d) throw new IllegalArgumentException("SelectiveScan: A must be (d, n), got " + A.shapeString() + " vs u " + u.shapeString());
        int n = A.dim(1);
        if (B.rank() != 3 || B.dim(0) != b || B.dim(1) != n || B.dim(2) != l) {
            throw new IllegalArgumentException("SelectiveScan: B must be (b, n, l), got " + B.shapeString() + " vs u " + u.shapeString() + ", A " + A.shapeString());
        }
        if (!C.sameShape(B)) throw new IllegalArgumentException("SelectiveScan: C " + C.shapeString() + " vs B " + B.shapeString());
        if (D != null && (D.rank() != 1 || D.dim(0) != d)) throw new IllegalArgumentException("SelectiveScan: D must be (d), got " + D.shapeString() + " vs u " + u.shapeString());
        if (deltaBias != null && (deltaBias.rank() != 1 || deltaBias.dim(0) != d)) {
            throw new IllegalArgumentException("SelectiveScan: deltaBias must be (d), got " + deltaBias.shapeString() + " vs u " + u.shapeString());
        }

        Tensor out = Tensor.zeros(b, d, l);
        if (out.numel() == 0) return out;
        Plan p = new Plan(b, d, l, n, deltaSoftplus, u.data, delta.data, A.data, B.data, C.data,
                D == null ? null : D.data, deltaBias == null ? null : deltaBias.data);
        float[] y = out.data;
        Parallel.forEach(p.tasks, task -> p.forwardTask(task, y));

        Tape.record(out, () -> p.backward(out.grad,
                u.requiresGrad() ? u.gradBuffer() : null,
                delta.requiresGrad() ? delta.gradBuffer() : null,
                A.requiresGrad() ? A.gradBuffer() : null,
                B.requiresGrad() ? B.gradBuffer() : null,
                C.requiresGrad() ? C.gradBuffer() : null,
                D != null && D.requiresGrad() ? D.gradBuffer() : null,
                deltaBias != null && deltaBias.requiresGrad() ? deltaBias.gradBuffer() : null),
                u, delta, A, B, C, D, deltaBias);
        return out;
    }

    /** Shapes, inputs and the task split of one call; shared by the forward and the backward. */
    private static final class Plan {
        final int b, d, l, n, blocks, groups, tasks, dPad;
        final boolean softplus;
        final float[] u, delta, B, C, D, bias;
        /** A transposed to (n, dPad), natural and times log2(e); padding lanes are 0. */
        final float[] aT, a2T;
        /** deltaBias padded to dPad (zeros without a bias). */
        final float[] biasPad;

        Plan(int b, int d, int l, int n, boolean softplus, float[] u, float[] delta, float[] A, float[] B, float[] C, float[] D, float[] bias) {
            this.b = b;
            this.d = d;
            this.l = l;
            this.n = n;
            this.softplus = softplus;
            this.u = u;
            this.delta = delta;
            this.B = B;
            this.C = C;
            this.D = D;
            this.bias = bias;
            blocks = (d + V - 1) / V;
            dPad = blocks * V;
            groups = Math.min(blocks, Math.max(1, (MIN_TASKS + b - 1) / b));
            tasks = b * groups;
            biasPad = new float[dPad];
            if (bias != null) System.arraycopy(bias, 0, biasPad, 0, d);
            aT = new float[n * dPad];
            a2T = new float[n * dPad];
            for (int c = 0; c < d; c++) {
                for (int k = 0; k < n; k++) {
                    aT[k * dPad + c] = A[c * n + k];
                    a2T[k * dPad + c] = A[c * n + k] * LOG2E;
                }
            }
        }

        int blockStart(int group) {
            return (int) ((long) blocks * group / groups);
        }

        /**
         * Transposes the channel block starting at c0 of batch bi into time-major scratch:
         * x = delta + bias (pre-activation), dt (after softplus), u. Padding lanes are 0.
         */
        void loadBlock(int bi, int c0, float[] x, float[] dt, float[] uT) {
            transposeIn(delta, bi, c0, x);
            transposeIn(u, bi, c0, uT);
            FloatVector bc = FloatVector.fromArray(S, biasPad, c0);
            int end = l * V;
            for (int o = 0; o < end; o += V) {
                FloatVector xv = FloatVector.fromArray(S, x, o).add(bc);
                xv.intoArray(x, o);
                (softplus ? xv.abs().neg() : xv).intoArray(dt, o);
            }
            if (!softplus) return;
            // softplus(x) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|; log1p(e) = 2 atanh(e / (2 + e)).
            exp2Scaled(dt, LOG2E_V, dt);
            FloatVector two = FloatVector.broadcast(S, 2f), one = FloatVector.broadcast(S, 1f);
            for (int o = 0; o < end; o += V) {
                FloatVector xv = FloatVector.fromArray(S, x, o), e = FloatVector.fromArray(S, dt, o);
                FloatVector sv = e.div(e.add(two)), w = sv.mul(sv);
                // atanh(s) / s = 1 + w/3 + w^2/5 + ... + w^6/13; s <= 1/3, truncation error < 2e-8
                FloatVector q = w.fma(1f / 13, 1f / 11).fma(w, FloatVector.broadcast(S, 1f / 9)).fma(w, FloatVector.broadcast(S, 1f / 7))
                        .fma(w, FloatVector.broadcast(S, 1f / 5)).fma(w, FloatVector.broadcast(S, 1f / 3)).fma(w, one);
                FloatVector sp = sv.add(sv).fma(q, xv.max(0f));
                sp.blend(xv, xv.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD)).intoArray(dt, o);
            }
        }

        void forwardTask(int task, float[] out) {
            int bi = task / groups, g = task % groups, lv = l * V;
            float[] x = new float[lv], dt = new float[lv], dtu = new float[lv], uT = new float[lv], y = new float[lv];
            float[] dA0 = new float[lv], dA1 = new float[lv];
            int bOff = bi * n * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V;
                loadBlock(bi, c0, x, dt, uT);
                mul(dt, uT, dtu);
                java.util.Arrays.fill(y, 0f);
                // State indices two at a time: two independent recurrences hide the FMA latency and share the y traffic.
                for (int k = 0; k < n; k += 2) {
                    exp2Scaled(dt, FloatVector.fromArray(S, a2T, k * dPad + c0), dA0);
                    if (k + 1 < n) {
                        exp2Scaled(dt, FloatVector.fromArray(S, a2T, (k + 1) * dPad + c0), dA1);
                        scanPair(dA0, dA1, dtu, B, bOff + k * l, bOff + (k + 1) * l, C, y);
                    } else {
                        // odd n: the second lane reads B = C = 0, so it adds nothing
                        scanPair(dA0, dA0, dtu, B, bOff + k * l, -1, C, y);
                    }
                }
                storeBlock(bi, c0, y, uT, out);
            }
        }

        /** out[row(c), t] = y[t][c] + D[c] u[t][c] for the real channels of the block. */
        private void storeBlock(int bi, int c0, float[] y, float[] uT, float[] out) {
            int nc = Math.min(V, d - c0);
            for (int c = 0; c < nc; c++) {
                int row = (bi * d + c0 + c) * l;
                float dc = D == null ? 0f : D[c0 + c];
                for (int t = 0; t < l; t++) out[row + t] = y[t * V + c] + dc * uT[t * V + c];
            }
        }

        /**
         * dA[t] = 2^(dt[t] * a2) for every t (in place allowed), clamped to the normal range [2^-126, 2^127].
         * Written out here rather than in a helper: a separately compiled helper is not reliably inlined,
         * and a vector crossing a call boundary is boxed.
         */
        private void exp2Scaled(float[] dt, FloatVector a2, float[] dA) {
            FloatVector p0 = FloatVector.broadcast(S, P0), p1 = FloatVector.broadcast(S, P1), p2 = FloatVector.broadcast(S, P2);
            FloatVector p3 = FloatVector.broadcast(S, P3), p4 = FloatVector.broadcast(S, P4), p5 = FloatVector.broadcast(S, P5);
            for (int o = 0, end = l * V; o < end; o += V) {
                FloatVector t = FloatVector.fromArray(S, dt, o).mul(a2).max(-126f).min(127f);
                FloatVector z = t.add(EXP2_MAGIC); // rounds t to an integer k held in the low mantissa bits
                FloatVector f = t.sub(z.sub(EXP2_MAGIC)); // t - k in [-0.5, 0.5]
                FloatVector p = f.fma(p5, p4).fma(f, p3).fma(f, p2).fma(f, p1).fma(f, p0);
                // bits(z) << 23 == k << 23 (mod 2^32): adding it to p's bits multiplies p by 2^k.
                IntVector scale = z.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
                p.reinterpretAsInts().add(scale).reinterpretAsFloats().intoArray(dA, o);
            }
        }

        /**
         * Two state lanes k0, k1 of one block: h = dA h + dtu B[k, t];  y[t] += C[k, t] h.
         * {@code bk1 < 0} means no second lane.
         */
        private void scanPair(float[] dA0, float[] dA1, float[] dtu, float[] B, int bk0, int bk1, float[] C, float[] y) {
            FloatVector h0 = FloatVector.zero(S), h1 = FloatVector.zero(S);
            boolean two = bk1 >= 0;
            for (int t = 0; t < l; t++) {
                int o = t * V;
                FloatVector dtuT = FloatVector.fromArray(S, dtu, o);
                h0 = FloatVector.fromArray(S, dA0, o).fma(h0, dtuT.mul(B[bk0 + t]));
                FloatVector yt = h0.fma(FloatVector.broadcast(S, C[bk0 + t]), FloatVector.fromArray(S, y, o));
                if (two) {
                    h1 = FloatVector.fromArray(S, dA1, o).fma(h1, dtuT.mul(B[bk1 + t]));
                    yt = h1.fma(FloatVector.broadcast(S, C[bk1 + t]), yt);
                }
                yt.intoArray(y, o);
            }
        }

        /** One state lane forward, keeping the states: hs[(t+1) V] = h[t], hs[0 .. V) = 0. */
        private void scanStates(float[] dA, float[] dtu, float[] B, int bk, float[] hs) {
            FloatVector h = FloatVector.zero(S);
            h.intoArray(hs, 0);
            for (int t = 0; t < l; t++) {
                int o = t * V;
                h = FloatVector.fromArray(S, dA, o).fma(h, FloatVector.fromArray(S, dtu, o).mul(B[bk + t]));
                h.intoArray(hs, o + V);
            }
        }

        /**
         * Reverse sweep of state lanes k0 and k1 ({@code bk1 < 0}: k0 only): gh[t] = gy[t] C[t] + dA[t+1] gh[t+1], and
         * sumB[t] += gh B[t];  sumA[t] += gh h[t-1] dA[t] A;  accB[t] += gh dtu[t];  accC[t] += gy[t] h[t];
         * gA (into gaLanes[0 .. 2V)) = sum_t gh h[t-1] dA[t] dt[t].
         */
        private void reversePair(float[] gyT, int bk0, int bk1, float[] dA0, float[] dA1, float[] hs0, float[] hs1, float[] dt, float[] dtu,
                                 int aOff0, int aOff1, float[] sumB, float[] sumA, float[] accB, float[] accC, int acc0, int acc1, float[] gaLanes) {
            boolean two = bk1 >= 0, needB = accB != null, needC = accC != null;
            FloatVector a0 = FloatVector.fromArray(S, aT, aOff0), a1 = two ? FloatVector.fromArray(S, aT, aOff1) : a0;
            FloatVector gh0 = FloatVector.zero(S), next0 = gh0, gA0 = gh0, gh1 = gh0, next1 = gh0, gA1 = gh0;
            for (int t = l - 1; t >= 0; t--) {
                int o = t * V;
                FloatVector gyt = FloatVector.fromArray(S, gyT, o), dtuT = FloatVector.fromArray(S, dtu, o), dtT = FloatVector.fromArray(S, dt, o);
                gh0 = gh0.fma(next0, gyt.mul(C[bk0 + t]));
                next0 = FloatVector.fromArray(S, dA0, o);
                // q = d out / d (dt A) at step t = gh[t] h[t-1] dA[t]   (hs[t] holds h[t-1]; h[-1] = 0)
                FloatVector q0 = gh0.mul(FloatVector.fromArray(S, hs0, o)).mul(next0);
                FloatVector sb = gh0.fma(FloatVector.broadcast(S, B[bk0 + t]), FloatVector.fromArray(S, sumB, o));
                FloatVector sa = q0.fma(a0, FloatVector.fromArray(S, sumA, o));
                gA0 = q0.fma(dtT, gA0);
                if (needC) gyt.fma(FloatVector.fromArray(S, hs0, o + V), FloatVector.fromArray(S, accC, acc0 + o)).intoArray(accC, acc0 + o);
                if (needB) gh0.fma(dtuT, FloatVector.fromArray(S, accB, acc0 + o)).intoArray(accB, acc0 + o);
                if (two) {
                    gh1 = gh1.fma(next1, gyt.mul(C[bk1 + t]));
                    next1 = FloatVector.fromArray(S, dA1, o);
                    FloatVector q1 = gh1.mul(FloatVector.fromArray(S, hs1, o)).mul(next1);
                    sb = gh1.fma(FloatVector.broadcast(S, B[bk1 + t]), sb);
                    sa = q1.fma(a1, sa);
                    gA1 = q1.fma(dtT, gA1);
                    if (needC) gyt.fma(FloatVector.fromArray(S, hs1, o + V), FloatVector.fromArray(S, accC, acc1 + o)).intoArray(accC, acc1 + o);
                    if (needB) gh1.fma(dtuT, FloatVector.fromArray(S, accB, acc1 + o)).intoArray(accB, acc1 + o);
                }
                sb.intoArray(sumB, o);
                sa.intoArray(sumA, o);
            }
            gA0.intoArray(gaLanes, 0);
            gA1.intoArray(gaLanes, V);
        }

        private void mul(float[] a, float[] b, float[] out) {
            for (int o = 0, end = l * V; o < end; o += V) FloatVector.fromArray(S, a, o).mul(FloatVector.fromArray(S, b, o)).intoArray(out, o);
        }

        /**
         * Accumulates all requested gradients; each output array is null when not needed.
         * gu and gdelta are the inputs' own gradient buffers (tasks own disjoint rows).
         */
        void backward(float[] gy, float[] gu, float[] gdelta, float[] gA, float[] gB, float[] gC, float[] gD, float[] gBias) {
            boolean needDt = gdelta != null || gBias != null;
            // Per-task partials: A, D, bias per batch element (tasks of one batch element own disjoint channels);
            // B, C per task (the channel groups of a batch element each hold a partial sum over their channels).
            float[] gAPart = gA != null ? new float[b * d * n] : null;
            float[] gDPart = gD != null ? new float[b * d] : null;
            float[] gBiasPart = gBias != null ? new float[b * d] : null;
            float[] gBPart = gB != null ? new float[tasks * n * l] : null;
            float[] gCPart = gC != null ? new float[tasks * n * l] : null;
            Parallel.forEach(tasks, task -> backwardTask(task, gy, gu, gdelta, needDt, gAPart, gDPart, gBiasPart, gBPart, gCPart));
            if (gA != null) addSlices(gAPart, b, gA);
            if (gD != null) addSlices(gDPart, b, gD);
            if (gBias != null) addSlices(gBiasPart, b, gBias);
            if (gB != null) addGroups(gBPart, gB);
            if (gC != null) addGroups(gCPart, gC);
        }

        /** dst += the sum of {@code parts} consecutive slices of part, in order. */
        private static void addSlices(float[] part, int parts, float[] dst) {
            int len = dst.length;
            float[] s = new float[len];
            for (int p = 0; p < parts; p++) {
                int off = p * len;
                for (int i = 0; i < len; i++) s[i] += part[off + i];
            }
            for (int i = 0; i < len; i++) dst[i] += s[i];
        }

        /** (tasks, n, l) partials into (b, n, l): the groups of each batch element summed in order. */
        private void addGroups(float[] part, float[] dst) {
            int len = n * l;
            float[] s = new float[len];
            for (int bi = 0; bi < b; bi++) {
                java.util.Arrays.fill(s, 0f);
                for (int g = 0; g < groups; g++) {
                    int src = (bi * groups + g) * len;
                    for (int i = 0; i < len; i++) s[i] += part[src + i];
                }
                for (int i = 0, dOff = bi * len; i < len; i++) dst[dOff + i] += s[i];
            }
        }

        void backwardTask(int task, float[] gy, float[] gu, float[] gdelta, boolean needDt, float[] gAPart, float[] gDPart, float[] gBiasPart,
                          float[] gBPart, float[] gCPart) {
            int bi = task / groups, g = task % groups;
            int lv = l * V;
            float[] x = new float[lv], dt = new float[lv], uT = new float[lv], dtu = new float[lv], gyT = new float[lv];
            float[] hs0 = new float[lv + V], hs1 = new float[lv + V], dA0 = new float[lv], dA1 = new float[lv];
            // sumB[t] = sum_k gh[k] B[k,t];  sumA[t] = sum_k gh[k] h[t-1,k] dA[t,k] A[k]  (per lane = channel)
            float[] sumB = new float[lv], sumA = new float[lv];
            // Lane-wise partial sums over the task's channels of gB and gC, (n, l, V); lanes summed at the end.
            float[] accB = gBPart != null ? new float[n * lv] : null, accC = gCPart != null ? new float[n * lv] : null;
            float[] gaLanes = new float[2 * V];
            int bOff = bi * n * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V, nc = Math.min(V, d - c0);
                loadBlock(bi, c0, x, dt, uT);
                transposeIn(gy, bi, c0, gyT);
                mul(dt, uT, dtu);
                java.util.Arrays.fill(sumB, 0f);
                java.util.Arrays.fill(sumA, 0f);
                for (int k = 0; k < n; k += 2) {
                    boolean two = k + 1 < n;
                    int k1 = two ? k + 1 : k;
                    exp2Scaled(dt, FloatVector.fromArray(S, a2T, k * dPad + c0), dA0);
                    scanStates(dA0, dtu, B, bOff + k * l, hs0);
                    if (two) {
                        exp2Scaled(dt, FloatVector.fromArray(S, a2T, k1 * dPad + c0), dA1);
                        scanStates(dA1, dtu, B, bOff + k1 * l, hs1);
                    }
                    reversePair(gyT, bOff + k * l, two ? bOff + k1 * l : -1, dA0, dA1, hs0, hs1, dt, dtu, k * dPad + c0, k1 * dPad + c0,
                            sumB, sumA, accB, accC, k * lv, k1 * lv, gaLanes);
                    if (gAPart != null) {
                        for (int c = 0; c < nc; c++) gAPart[(bi * d + c0 + c) * n + k] = gaLanes[c];
                        if (two) for (int c = 0; c < nc; c++) gAPart[(bi * d + c0 + c) * n + k1] = gaLanes[V + c];
                    }
                }
                // gu = dt sumB + D gy;  gdt = u sumB + sumA, through the softplus: times sigmoid(x)
                if (needDt) blockDtGrad(x, uT, sumB, sumA);
                if (gu != null) mul(dt, sumB, sumB);
                for (int c = 0; c < nc; c++) {
                    int ch = c0 + c, row = (bi * d + ch) * l;
                    float dc = D == null ? 0f : D[ch];
                    if (gu != null) for (int t = 0; t < l; t++) gu[row + t] += sumB[t * V + c] + dc * gyT[t * V + c];
                    if (needDt) {
                        float s = 0f;
                        for (int t = 0; t < l; t++) s += sumA[t * V + c];
                        if (gdelta != null) for (int t = 0; t < l; t++) gdelta[row + t] += sumA[t * V + c];
                        if (gBiasPart != null) gBiasPart[bi * d + ch] = s;
                    }
                    if (gDPart != null) {
                        float s = 0f;
                        for (int t = 0; t < l; t++) s += gyT[t * V + c] * uT[t * V + c];
                        gDPart[bi * d + ch] = s;
                    }
                }
            }
            int gOff = task * n * l;
            for (int i = 0, m = n * l; i < m; i++) {
                if (gBPart != null) gBPart[gOff + i] = VecMath.sumLanes(FloatVector.fromArray(S, accB, i * V));
                if (gCPart != null) gCPart[gOff + i] = VecMath.sumLanes(FloatVector.fromArray(S, accC, i * V));
            }
        }

        /** sumA[t] = (u[t] sumB[t] + sumA[t]) * (softplus ? softplus'(x[t]) : 1): the gradient of delta. */
        private void blockDtGrad(float[] x, float[] uT, float[] sumB, float[] sumA) {
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (int o = 0, end = l * V; o < end; o += V) {
                FloatVector gdt = FloatVector.fromArray(S, uT, o).fma(FloatVector.fromArray(S, sumB, o), FloatVector.fromArray(S, sumA, o));
                if (softplus) {
                    // softplus'(x) = sigmoid(x) up to the threshold, 1 above it
                    FloatVector xv = FloatVector.fromArray(S, x, o);
                    FloatVector sig = VecMath.sigmoid(xv);
                    gdt = gdt.mul(sig.blend(one, xv.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD)));
                }
                gdt.intoArray(sumA, o);
            }
        }

        /** Transposes the (b, d, l) rows of channels c0 .. c0+V of batch bi into [t][lane]; padding lanes 0. */
        private void transposeIn(float[] src, int bi, int c0, float[] dst) {
            int nc = Math.min(V, d - c0);
            for (int c = 0; c < V; c++) {
                if (c >= nc) {
                    for (int t = 0; t < l; t++) dst[t * V + c] = 0f;
                    continue;
                }
                int row = (bi * d + c0 + c) * l;
                for (int t = 0; t < l; t++) dst[t * V + c] = src[row + t];
            }
        }
    }

    // ---- vector math ---------------------------------------------------------------------

    private static final float EXP2_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    // Minimax (relative error) fit of 2^f on [-0.5, 0.5]; max relative error 2.3e-7 in float arithmetic.
    private static final float P0 = 1.0000001f, P1 = 0.69314694f, P2 = 0.2402212f, P3 = 0.05550713f, P4 = 0.009675542f, P5 = 0.0013276471f;
}
