package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

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
 * and the scan runs one state index {@code k} at a time over the whole sequence, so the state of a
 * block is one vector in a register and the recurrence never needs a horizontal reduction.
 * {@code exp(dt A)} is evaluated as {@code 2^(dt * A log2 e)} with a polynomial (as the CUDA kernel does).
 *
 * <p>Backward: nothing but the inputs is saved. For each block and state index the forward of that one
 * state lane is recomputed over the sequence into an {@code l x V} buffer, then swept in reverse.
 * That costs one extra forward, the same as checkpointing every 16-32 steps and recomputing the chunks,
 * but needs no checkpoint memory at all. Gradients of A, B, C, D and deltaBias are reductions over tasks:
 * each task writes its own partials, summed afterwards in a fixed order, so results are deterministic
 * and do not depend on the thread count (the task split does not either).
 */
public final class SelectiveScan {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final float LOG2E = 1.4426950408889634f;
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

        Tape.record(out, () -> {
            Grads g = p.backward(out.grad, u.requiresGrad(), delta.requiresGrad(), A.requiresGrad(), B.requiresGrad(), C.requiresGrad(),
                    D != null && D.requiresGrad(), deltaBias != null && deltaBias.requiresGrad());
            if (g.u != null) add(u.gradBuffer(), g.u);
            if (g.delta != null) add(delta.gradBuffer(), g.delta);
            if (g.A != null) add(A.gradBuffer(), g.A);
            if (g.B != null) add(B.gradBuffer(), g.B);
            if (g.C != null) add(C.gradBuffer(), g.C);
            if (g.D != null) add(D.gradBuffer(), g.D);
            if (g.deltaBias != null) add(deltaBias.gradBuffer(), g.deltaBias);
        }, u, delta, A, B, C, D, deltaBias);
        return out;
    }

    private static void add(float[] dst, float[] src) {
        int i = 0;
        for (int bound = S.loopBound(dst.length); i < bound; i += V) {
            FloatVector.fromArray(S, dst, i).add(FloatVector.fromArray(S, src, i)).intoArray(dst, i);
        }
        for (; i < dst.length; i++) dst[i] += src[i];
    }

    private record Grads(float[] u, float[] delta, float[] A, float[] B, float[] C, float[] D, float[] deltaBias) {}

    /** Shapes, inputs and the task split of one call; shared by the forward and the backward. */
    private static final class Plan {
        final int b, d, l, n, blocks, groups, tasks, dPad;
        final boolean softplus;
        final float[] u, delta, B, C, D, bias;
        /** A transposed to (n, dPad), natural and times log2(e); padding lanes are 0. */
        final float[] aT, a2T;

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
            int nc = Math.min(V, d - c0);
            for (int c = 0; c < V; c++) {
                if (c >= nc) {
                    for (int t = 0; t < l; t++) {
                        x[t * V + c] = 0f;
                        uT[t * V + c] = 0f;
                    }
                    continue;
                }
                int row = (bi * d + c0 + c) * l;
                float bc = bias == null ? 0f : bias[c0 + c];
                for (int t = 0; t < l; t++) {
                    x[t * V + c] = delta[row + t] + bc;
                    uT[t * V + c] = u[row + t];
                }
            }
            for (int t = 0; t < l; t++) {
                FloatVector xv = FloatVector.fromArray(S, x, t * V);
                (softplus ? softplus(xv) : xv).intoArray(dt, t * V);
            }
        }

        void forwardTask(int task, float[] out) {
            int bi = task / groups, g = task % groups;
            float[] x = new float[l * V], dt = new float[l * V], dtu = new float[l * V], uT = new float[l * V], y = new float[l * V];
            int bOff = bi * n * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V;
                loadBlock(bi, c0, x, dt, uT);
                for (int t = 0; t < l; t++) {
                    int o = t * V;
                    FloatVector.fromArray(S, dt, o).mul(FloatVector.fromArray(S, uT, o)).intoArray(dtu, o);
                }
                java.util.Arrays.fill(y, 0f);
                for (int k = 0; k < n; k++) {
                    FloatVector a2 = FloatVector.fromArray(S, a2T, k * dPad + c0);
                    FloatVector h = FloatVector.zero(S);
                    int bk = bOff + k * l;
                    for (int t = 0; t < l; t++) {
                        int o = t * V;
                        FloatVector dA = exp2(FloatVector.fromArray(S, dt, o).mul(a2));
                        h = dA.fma(h, FloatVector.fromArray(S, dtu, o).mul(B[bk + t]));
                        FloatVector.fromArray(S, y, o).add(h.mul(C[bk + t])).intoArray(y, o);
                    }
                }
                int nc = Math.min(V, d - c0);
                for (int c = 0; c < nc; c++) {
                    int row = (bi * d + c0 + c) * l;
                    float dc = D == null ? 0f : D[c0 + c];
                    for (int t = 0; t < l; t++) out[row + t] = y[t * V + c] + dc * uT[t * V + c];
                }
            }
        }

        Grads backward(float[] gy, boolean needU, boolean needDelta, boolean needA, boolean needB, boolean needC, boolean needD, boolean needBias) {
            boolean needDt = needDelta || needBias;
            float[] gu = needU ? new float[b * d * l] : null;
            float[] gdelta = needDt ? new float[b * d * l] : null;
            // Per-task partials: A, D, bias per batch element (tasks of one batch own disjoint channels);
            // B, C per task (the channel groups of a batch element each hold a partial sum over their channels).
            float[] gAPart = needA ? new float[b * d * n] : null;
            float[] gDPart = needD ? new float[b * d] : null;
            float[] gBiasPart = needBias ? new float[b * d] : null;
            float[] gBPart = needB ? new float[tasks * n * l] : null;
            float[] gCPart = needC ? new float[tasks * n * l] : null;
            Parallel.forEach(tasks, task -> backwardTask(task, gy, gu, gdelta, gAPart, gDPart, gBiasPart, gBPart, gCPart));

            float[] gA = null, gD = null, gBias = null, gB = null, gC = null;
            if (needA) gA = sumOver(gAPart, b, d * n);
            if (needD) gD = sumOver(gDPart, b, d);
            if (needBias) gBias = sumOver(gBiasPart, b, d);
            if (needB) gB = sumGroups(gBPart);
            if (needC) gC = sumGroups(gCPart);
            return new Grads(gu, needDelta ? gdelta : null, gA, gB, gC, gD, gBias);
        }

        /** Sums {@code parts} consecutive slices of length {@code len}, in order. */
        private static float[] sumOver(float[] part, int parts, int len) {
            float[] s = new float[len];
            for (int p = 0; p < parts; p++) {
                int off = p * len;
                for (int i = 0; i < len; i++) s[i] += part[off + i];
            }
            return s;
        }

        /** (tasks, n, l) partials to (b, n, l): the groups of each batch element summed in order. */
        private float[] sumGroups(float[] part) {
            int len = n * l;
            float[] s = new float[b * len];
            for (int bi = 0; bi < b; bi++) {
                for (int g = 0; g < groups; g++) {
                    int src = (bi * groups + g) * len, dst = bi * len;
                    for (int i = 0; i < len; i++) s[dst + i] += part[src + i];
                }
            }
            return s;
        }

        void backwardTask(int task, float[] gy, float[] gu, float[] gdelta, float[] gAPart, float[] gDPart, float[] gBiasPart,
                          float[] gBPart, float[] gCPart) {
            int bi = task / groups, g = task % groups;
            boolean needB = gBPart != null, needC = gCPart != null;
            int lv = l * V;
            float[] x = new float[lv], dt = new float[lv], uT = new float[lv], dtu = new float[lv], gyT = new float[lv];
            float[] hs = new float[lv], dAs = new float[lv];
            // sumB[t] = sum_k gh[k] B[k,t];  sumA[t] = sum_k gh[k] h[t-1,k] dA[t,k] A[k]  (per lane = channel)
            float[] sumB = new float[lv], sumA = new float[lv];
            // Lane-wise partial sums over the task's channels of gB and gC, (n, l, V); lanes summed at the end.
            float[] accB = needB ? new float[n * lv] : null, accC = needC ? new float[n * lv] : null;
            float[] gaLanes = new float[V];
            int bOff = bi * n * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V, nc = Math.min(V, d - c0);
                loadBlock(bi, c0, x, dt, uT);
                for (int c = 0; c < V; c++) {
                    if (c >= nc) {
                        for (int t = 0; t < l; t++) gyT[t * V + c] = 0f;
                        continue;
                    }
                    int row = (bi * d + c0 + c) * l;
                    for (int t = 0; t < l; t++) gyT[t * V + c] = gy[row + t];
                }
                for (int t = 0; t < l; t++) {
                    int o = t * V;
                    FloatVector.fromArray(S, dt, o).mul(FloatVector.fromArray(S, uT, o)).intoArray(dtu, o);
                }
                java.util.Arrays.fill(sumB, 0f);
                java.util.Arrays.fill(sumA, 0f);
                for (int k = 0; k < n; k++) {
                    FloatVector a2 = FloatVector.fromArray(S, a2T, k * dPad + c0);
                    FloatVector a = FloatVector.fromArray(S, aT, k * dPad + c0);
                    int bk = bOff + k * l;
                    // Recompute this state lane forward, keeping h[t] and dA[t].
                    FloatVector h = FloatVector.zero(S);
                    for (int t = 0; t < l; t++) {
                        int o = t * V;
                        FloatVector dA = exp2(FloatVector.fromArray(S, dt, o).mul(a2));
                        h = dA.fma(h, FloatVector.fromArray(S, dtu, o).mul(B[bk + t]));
                        h.intoArray(hs, o);
                        dA.intoArray(dAs, o);
                    }
                    // Reverse sweep: gh[t] = gy[t] C[t] + dA[t+1] gh[t+1].
                    FloatVector gh = FloatVector.zero(S), dANext = FloatVector.zero(S), gA = FloatVector.zero(S);
                    int accOff = k * lv;
                    for (int t = l - 1; t >= 0; t--) {
                        int o = t * V;
                        FloatVector gyt = FloatVector.fromArray(S, gyT, o);
                        gh = gh.fma(dANext, gyt.mul(C[bk + t]));
                        if (needC) gyt.fma(FloatVector.fromArray(S, hs, o), FloatVector.fromArray(S, accC, accOff + o)).intoArray(accC, accOff + o);
                        if (needB) gh.fma(FloatVector.fromArray(S, dtu, o), FloatVector.fromArray(S, accB, accOff + o)).intoArray(accB, accOff + o);
                        gh.fma(FloatVector.broadcast(S, B[bk + t]), FloatVector.fromArray(S, sumB, o)).intoArray(sumB, o);
                        FloatVector dA = FloatVector.fromArray(S, dAs, o);
                        if (t > 0) {
                            // d out / d dA[t] = gh[t] h[t-1]; q is that times dA[t] = d out / d (dt A)
                            FloatVector q = gh.mul(FloatVector.fromArray(S, hs, o - V)).mul(dA);
                            q.fma(a, FloatVector.fromArray(S, sumA, o)).intoArray(sumA, o);
                            gA = q.fma(FloatVector.fromArray(S, dt, o), gA);
                        }
                        dANext = dA;
                    }
                    if (gAPart != null) {
                        gA.intoArray(gaLanes, 0);
                        for (int c = 0; c < nc; c++) gAPart[(bi * d + c0 + c) * n + k] = gaLanes[c];
                    }
                }
                // Per-channel gradients of this block.
                for (int t = 0; t < l; t++) {
                    int o = t * V;
                    FloatVector sb = FloatVector.fromArray(S, sumB, o);
                    // gu = dt * sumB (+ D gy below); gdt = u * sumB + sumA, through softplus: * sigmoid(x)
                    FloatVector.fromArray(S, dt, o).mul(sb).intoArray(sumB, o);
                    FloatVector gdt = FloatVector.fromArray(S, uT, o).fma(sb, FloatVector.fromArray(S, sumA, o));
                    if (softplus) gdt = gdt.mul(sigmoidBelowThreshold(FloatVector.fromArray(S, x, o)));
                    gdt.intoArray(sumA, o);
                }
                for (int c = 0; c < nc; c++) {
                    int ch = c0 + c, row = (bi * d + ch) * l;
                    float dc = D == null ? 0f : D[ch];
                    if (gu != null) for (int t = 0; t < l; t++) gu[row + t] = sumB[t * V + c] + dc * gyT[t * V + c];
                    if (gdelta != null) {
                        float s = 0f;
                        for (int t = 0; t < l; t++) {
                            float v = sumA[t * V + c];
                            gdelta[row + t] = v;
                            s += v;
                        }
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
                if (needB) gBPart[gOff + i] = FloatVector.fromArray(S, accB, i * V).reduceLanes(VectorOperators.ADD);
                if (needC) gCPart[gOff + i] = FloatVector.fromArray(S, accC, i * V).reduceLanes(VectorOperators.ADD);
            }
        }
    }

    // ---- vector math ---------------------------------------------------------------------

    private static final float EXP2_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    // Minimax (relative error) fit of 2^f on [-0.5, 0.5]; max relative error 2.3e-7 in float arithmetic.
    private static final float P0 = 1.0000001f, P1 = 0.69314694f, P2 = 0.2402212f, P3 = 0.05550713f, P4 = 0.009675542f, P5 = 0.0013276471f;

    /** 2^t, clamped to the normal range [2^-126, 2^127]. */
    static FloatVector exp2(FloatVector t) {
        t = t.max(-126f).min(127f);
        FloatVector z = t.add(EXP2_MAGIC);
        FloatVector f = t.sub(z.sub(EXP2_MAGIC));
        FloatVector p = f.fma(FloatVector.broadcast(S, P5), FloatVector.broadcast(S, P4));
        p = p.fma(f, FloatVector.broadcast(S, P3));
        p = p.fma(f, FloatVector.broadcast(S, P2));
        p = p.fma(f, FloatVector.broadcast(S, P1));
        p = p.fma(f, FloatVector.broadcast(S, P0));
        // bits(z) << 23 == k << 23 (mod 2^32) for the rounded integer k: add it to the exponent of p.
        IntVector scale = z.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        return p.reinterpretAsInts().add(scale).reinterpretAsFloats();
    }

    private static FloatVector softplus(FloatVector x) {
        FloatVector sp = x.lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
        return sp.blend(x, x.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD));
    }

    /** d softplus / dx: sigmoid(x) up to the threshold, 1 above it. */
    private static FloatVector sigmoidBelowThreshold(FloatVector x) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector sig = one.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
        VectorMask<Float> above = x.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD);
        return sig.blend(one, above);
    }
}
