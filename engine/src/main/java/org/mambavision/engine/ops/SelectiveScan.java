package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.SystemProperty;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Transpose16;
import org.mambavision.engine.kernels.VecMath;
import static jdk.incubator.vector.VectorOperators.GT;
import static jdk.incubator.vector.VectorOperators.LT;

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
 * {@code V} channels (one vector). Its inputs are transposed to time-major scratch ({@code [t][lane]}; 16 x 16
 * tiles of two-vector permutes when V is 16), and the scan runs four state indices {@code k} at a time over the
 * whole sequence, so each state of a block is one vector in a register and the recurrence never needs a
 * horizontal reduction. {@code exp(dt A)} is evaluated inside the recurrence as {@code 2^(dt * A log2 e)} with a
 * polynomial (as the CUDA kernel does). The hot loops are small methods taking arrays, never vectors, so C2
 * inlines the Vector API calls reliably and no vector is boxed; within a loop only Vector API calls are used
 * where a helper of our own would push C2 past its node-count inlining cutoff. Clamps are compare + blend:
 * {@code max}/{@code min} compile to multi-instruction sequences (Java NaN and -0 rules); measured 40% faster.
 *
 * <p>Backward: nothing but the inputs is saved. For each block and group of four state indices the forward of
 * those state lanes is recomputed over the sequence into buffers (h and exp(dt A)), then swept in reverse.
 * That costs one extra forward, the same as checkpointing every 16-32 steps and recomputing the chunks,
 * but needs no checkpoint memory at all. Gradients of A, B, C, D and deltaBias are reductions over tasks:
 * each task writes its own partials, summed afterwards in a fixed order, so results are deterministic
 * and do not depend on the thread count (the task split does not either).
 */
public final class SelectiveScan {
    static { org.mambavision.engine.kernels.JitInlining.install(); } // vector helpers inlined by C2, see there
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final float LOG2E = 1.4426950408889634f;
    private static final FloatVector LOG2E_V = FloatVector.broadcast(S, LOG2E);
    /** softplus(x) = x above this, as in mamba_ssm. */
    private static final float SOFTPLUS_THRESHOLD = 20f;
    /** Enough tasks to balance a few threads; fixed so that the reduction order does not depend on the pool. */
    private static final int MIN_TASKS = 16;
    /** State indices per pass of the scan kernels. */
    private static final int Q = 4;

    private SelectiveScan() {}

    /**
     * The scan as standard ONNX operators: the per-step factors exp(dt A) and dt B u are computed for all steps at once
     * as (L, b, d, n) tensors, an ONNX {@code Scan} carries the state h (b, d, n) through h = dA_t h + dBu_t and
     * stacks it, and y = sum_n C h + D u is again one pass over all steps. The loop body is two elementwise nodes:
     * everything that does not depend on the previous state runs outside it, as whole-tensor ops.
     */
    private static String emit(OpTrace tr, Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D, Tensor deltaBias,
                               boolean softplus, int d, int n, int l) {
        String dt = tr.name(delta);
        if (deltaBias != null) dt = tr.tmp("Add", dt, tr.derived(deltaBias, ".col", () -> deltaBias.data.clone(), d, 1));
        if (softplus) dt = tr.tmp("Softplus", dt);
        String steps = tr.tmp("Unsqueeze", tr.transpose(dt, 2, 0, 1), tr.longs(3));                    // (L, b, d, 1)
        String dA = tr.tmp("Exp", tr.tmp("Mul", steps, A));                                               // (L, b, d, n)
        String dtu = tr.tmp("Unsqueeze", tr.transpose(tr.tmp("Mul", dt, u), 2, 0, 1), tr.longs(3));
        String bSteps = tr.tmp("Unsqueeze", tr.transpose(B, 2, 0, 1), tr.longs(2));                        // (L, b, 1, n)
        String dBu = tr.tmp("Mul", dtu, bSteps);                                                          // (L, b, d, n)
        String cSteps = tr.tmp("Unsqueeze", tr.transpose(C, 2, 0, 1), tr.longs(2));                        // (L, b, 1, n)
        String form = SystemProperty.ONNX_SCAN.value();
        String ySteps = switch (form == null ? "scan" : form) {                                           // (L, b, d)
            case "unrolled" -> {
                String h = null;
                String[] states = new String[l];
                for (int t = 0; t < l; t++) {
                    String bt = tr.tmp("Gather", dBu, tr.longScalar(t), OpTrace.Attr.i("axis", 0));
                    h = t == 0 ? bt : tr.tmp("Add", tr.tmp("Mul", tr.tmp("Gather", dA, tr.longScalar(t), OpTrace.Attr.i("axis", 0)), h), bt);
                    states[t] = tr.tmp("Unsqueeze", h, tr.longs(0));
                }
                Object[] args = new Object[l + 1];
                System.arraycopy(states, 0, args, 0, l);
                args[l] = OpTrace.Attr.i("axis", 0);
                yield tr.reduce("ReduceSum", tr.tmp("Mul", tr.tmp("Concat", args), cSteps), false, 3);
            }
            case "scan" -> tr.reduce("ReduceSum", tr.tmp("Mul", scanStates(tr, u, d, n, dA, dBu), cSteps), false, 3);
            default -> throw new IllegalArgumentException("-D" + SystemProperty.ONNX_SCAN.key + "=" + form + ": valid are scan, unrolled");
        };
        String y = tr.transpose(ySteps, 1, 2, 0);                                                         // (b, d, L)
        if (D != null) y = tr.tmp("Add", y, tr.tmp("Mul", u, tr.derived(D, ".col", () -> D.data.clone(), d, 1)));
        return y;
    }

    /**
     * An ONNX Scan over the steps of dA and dBu (each (L, b, d, n)) carrying the state h (b, d, n) from h0 through
     * h = dA_t h + dBu_t from zeros; returns the stacked states (L, b, d, n).
     */
    private static String scanStates(OpTrace tr, Tensor u, int d, int n, String dA, String dBu) {
        String batch = tr.tmp("Shape", u, OpTrace.Attr.i("start", 0), OpTrace.Attr.i("end", 1));
        String h0 = tr.tmp("ConstantOfShape", tr.tmp("Concat", batch, tr.longs(d, n), OpTrace.Attr.i("axis", 0))); // float zeros
        OpTrace.Graph body = new OpTrace.Graph(tr.fresh("scan_body"));
        String hPrev = tr.fresh("h_prev"), aT = tr.fresh("dA_t"), bT = tr.fresh("dBu_t"), hNext = tr.fresh("h"), hOut = tr.fresh("h_t");
        int[] state = {-1, d, n};
        for (String in : new String[] {hPrev, aT, bT}) body.inputs.add(new OpTrace.ValueInfo(in, OpTrace.FLOAT, state, null));
        tr.subgraph(body, () -> {
            tr.node("Add", new String[] {hNext}, java.util.List.of(), tr.tmp("Mul", aT, hPrev), bT);
            tr.node("Identity", new String[] {hOut}, java.util.List.of(), hNext); // a graph output may not be listed twice
        });
        body.outputs.add(new OpTrace.ValueInfo(hNext, OpTrace.FLOAT, state, null));
        body.outputs.add(new OpTrace.ValueInfo(hOut, OpTrace.FLOAT, state, null));
        String hLast = tr.fresh("h_last"), stacked = tr.fresh("h_steps");
        tr.node("Scan", new String[] {hLast, stacked}, java.util.List.of(OpTrace.Attr.graph("body", body), OpTrace.Attr.i("num_scan_inputs", 2)),
                h0, dA, dBu);
        return stacked;
    }

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

        Tensor out = Tensor.empty(b, d, l); // every (channel, step) is written by its block
        if (out.numel() == 0) return out;
        Plan p = new Plan(b, d, l, n, deltaSoftplus, u.data, delta.data, A.data, B.data, C.data,
                D == null ? null : D.data, deltaBias == null ? null : deltaBias.data);
        float[] y = out.data;
        Parallel.forEach(p.tasks, task -> p.forwardTask(task, y));
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(u, delta, B, C)) tr.bind(out, emit(tr, u, delta, A, B, C, D, deltaBias, deltaSoftplus, d, n, l));

        Tape.record(out, () -> {
            // First gradients of u and delta are assigned by the block transposes, not zero-filled and added.
            boolean addU = !(u.requiresGrad() && u.allocateGradForOverwrite());
            boolean addDelta = !(delta.requiresGrad() && delta.allocateGradForOverwrite());
            p.backward(out.grad,
                u.requiresGrad() ? u.grad : null, addU,
                delta.requiresGrad() ? delta.grad : null, addDelta,
                A.requiresGrad() ? A.gradBuffer() : null,
                B.requiresGrad() ? B.gradBuffer() : null,
                C.requiresGrad() ? C.gradBuffer() : null,
                D != null && D.requiresGrad() ? D.gradBuffer() : null,
                deltaBias != null && deltaBias.requiresGrad() ? deltaBias.gradBuffer() : null);
        }, u, delta, A, B, C, D, deltaBias);
        return out;
    }

    /**
     * Per-thread work arrays of the task kernels, grown on demand and reused: fresh arrays would cost each task
     * 0.4-0.6 MB per call, allocated and zeroed by the JVM. Callers use the first {@code len} entries and clear
     * what they accumulate into.
     */
    private static final class Scratch {
        private final float[][] slots = new float[14][0];

        float[] get(int slot, int len) {
            if (slots[slot].length < len) slots[slot] = new float[len];
            return slots[slot];
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Shapes, inputs and the task split of one call; shared by the forward and the backward. */
    private static final class Plan {
        final int b, d, l, n, nq, blocks, groups, tasks, dPad;
        final boolean softplus;
        final float[] u, delta;
        /** B and C as (b, nq, l): the inputs themselves when n is a multiple of Q, else copies with zero rows added. */
        final float[] bq, cq;
        /** A transposed to (nq, dPad), natural and times log2(e); padding lanes and rows are 0. */
        final float[] aT, a2T;
        /** deltaBias and D padded to dPad (zeros when absent). */
        final float[] biasPad, dPadded;

        Plan(int b, int d, int l, int n, boolean softplus, float[] u, float[] delta, float[] A, float[] B, float[] C, float[] D, float[] bias) {
            this.b = b;
            this.d = d;
            this.l = l;
            this.n = n;
            this.softplus = softplus;
            this.u = u;
            this.delta = delta;
            nq = (n + Q - 1) / Q * Q;
            bq = padStates(B, b, n, nq, l);
            cq = padStates(C, b, n, nq, l);
            blocks = (d + V - 1) / V;
            dPad = blocks * V;
            groups = Math.min(blocks, Math.max(1, (MIN_TASKS + b - 1) / b));
            tasks = b * groups;
            biasPad = new float[dPad];
            if (bias != null) System.arraycopy(bias, 0, biasPad, 0, d);
            dPadded = new float[dPad];
            if (D != null) System.arraycopy(D, 0, dPadded, 0, d);
            aT = new float[nq * dPad];
            a2T = new float[nq * dPad];
            for (int c = 0; c < d; c++) {
                for (int k = 0; k < n; k++) {
                    aT[k * dPad + c] = A[c * n + k];
                    a2T[k * dPad + c] = A[c * n + k] * LOG2E;
                }
            }
        }

        /** (b, n, l) as (b, nq, l) with zero rows; the array itself when nothing is added. */
        private static float[] padStates(float[] x, int b, int n, int nq, int l) {
            if (n == nq) return x;
            float[] p = new float[b * nq * l];
            for (int bi = 0; bi < b; bi++) System.arraycopy(x, bi * n * l, p, bi * nq * l, n * l);
            return p;
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
            if (softplus) softplusInPlace(x, dt, end);
        }

        /**
         * dt = softplus(x), dt holding -|x| on entry. softplus(x) = max(x, 0) + log1p(exp(-|x|)), exact for large |x|;
         * log1p(e) = 2 atanh(e / (2 + e)).
         */
        private static void softplusInPlace(float[] x, float[] dt, int end) {
            FloatVector two = FloatVector.broadcast(S, 2f), one = FloatVector.broadcast(S, 1f);
            for (int o = 0; o < end; o += V) {
                FloatVector xv = FloatVector.fromArray(S, x, o), e = exp2(FloatVector.fromArray(S, dt, o).mul(LOG2E_V));
                FloatVector sv = e.div(e.add(two)), w = sv.mul(sv);
                // atanh(s) / s = 1 + w/3 + w^2/5 + ... + w^6/13; s <= 1/3, truncation error < 2e-8
                FloatVector q = w.fma(1f / 13, 1f / 11).fma(w, FloatVector.broadcast(S, 1f / 9)).fma(w, FloatVector.broadcast(S, 1f / 7))
                        .fma(w, FloatVector.broadcast(S, 1f / 5)).fma(w, FloatVector.broadcast(S, 1f / 3)).fma(w, one);
                FloatVector sp = sv.add(sv).fma(q, xv.blend(0f, xv.compare(LT, 0f))); // max(x, 0) (see exp2 on max)
                sp.blend(xv, xv.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD)).intoArray(dt, o);
            }
        }

        void forwardTask(int task, float[] out) {
            int bi = task / groups, g = task % groups, lv = l * V;
            Scratch sc = SCRATCH.get();
            float[] x = sc.get(0, lv), dt = sc.get(1, lv), dtu = sc.get(2, lv), uT = sc.get(3, lv), y = sc.get(4, lv);
            int bOff = bi * nq * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V;
                loadBlock(bi, c0, x, dt, uT);
                mul(dt, uT, dtu, lv);
                java.util.Arrays.fill(y, 0, lv, 0f);
                for (int k = 0; k < nq; k += Q) scanQuad(l, dt, dtu, a2T, k * dPad + c0, dPad, bq, cq, bOff + k * l, y);
                addScaled(y, dPadded, c0, uT, lv);
                transposeOut(y, bi, c0, out, false, null);
            }
        }

        /**
         * Q = 4 state lanes k .. k+3 of one block (B, C rows at bk + j l), exp(dt A) computed on the fly:
         * h_j = 2^(dt a2_j) h_j + dtu B[k+j, t];  y[t] += C[k+j, t] h_j, in the order of j.
         * Four independent recurrences hide the latency of the serial chain over t and share the dt, dtu and y traffic.
         * The four exp2 are written out (see {@link #exp2} for the steps): four calls of a helper push C2 past its
         * node-count inlining cutoff, and a helper that is not inlined boxes its vectors. Vector API calls are
         * force-inlined whatever the count.
         */
        private static void scanQuad(int l, float[] dt, float[] dtu, float[] a2T, int aOff, int aStride, float[] B, float[] C, int bk, float[] y) {
            FloatVector a0 = FloatVector.fromArray(S, a2T, aOff), a1 = FloatVector.fromArray(S, a2T, aOff + aStride);
            FloatVector a2 = FloatVector.fromArray(S, a2T, aOff + 2 * aStride), a3 = FloatVector.fromArray(S, a2T, aOff + 3 * aStride);
            FloatVector h0 = FloatVector.zero(S), h1 = h0, h2 = h0, h3 = h0;
            int k0 = bk, k1 = bk + l, k2 = bk + 2 * l, k3 = bk + 3 * l;
            for (int t = 0; t < l; t++) {
                int o = t * V;
                FloatVector dtv = FloatVector.fromArray(S, dt, o), dtuv = FloatVector.fromArray(S, dtu, o);
                FloatVector x0 = dtv.mul(a0), t0 = x0.blend(-126f, x0.compare(LT, -126f)).blend(127f, x0.compare(GT, 127f));
                FloatVector z0 = t0.add(EXP2_MAGIC), f0 = t0.sub(z0.sub(EXP2_MAGIC));
                FloatVector p0 = f0.fma(P5, P4).lanewise(VectorOperators.FMA, f0, P3).lanewise(VectorOperators.FMA, f0, P2)
                        .lanewise(VectorOperators.FMA, f0, P1).lanewise(VectorOperators.FMA, f0, P0);
                FloatVector e0 = p0.reinterpretAsInts().add(z0.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
                FloatVector x1 = dtv.mul(a1), t1 = x1.blend(-126f, x1.compare(LT, -126f)).blend(127f, x1.compare(GT, 127f));
                FloatVector z1 = t1.add(EXP2_MAGIC), f1 = t1.sub(z1.sub(EXP2_MAGIC));
                FloatVector p1 = f1.fma(P5, P4).lanewise(VectorOperators.FMA, f1, P3).lanewise(VectorOperators.FMA, f1, P2)
                        .lanewise(VectorOperators.FMA, f1, P1).lanewise(VectorOperators.FMA, f1, P0);
                FloatVector e1 = p1.reinterpretAsInts().add(z1.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
                FloatVector x2 = dtv.mul(a2), t2 = x2.blend(-126f, x2.compare(LT, -126f)).blend(127f, x2.compare(GT, 127f));
                FloatVector z2 = t2.add(EXP2_MAGIC), f2 = t2.sub(z2.sub(EXP2_MAGIC));
                FloatVector p2 = f2.fma(P5, P4).lanewise(VectorOperators.FMA, f2, P3).lanewise(VectorOperators.FMA, f2, P2)
                        .lanewise(VectorOperators.FMA, f2, P1).lanewise(VectorOperators.FMA, f2, P0);
                FloatVector e2 = p2.reinterpretAsInts().add(z2.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
                FloatVector x3 = dtv.mul(a3), t3 = x3.blend(-126f, x3.compare(LT, -126f)).blend(127f, x3.compare(GT, 127f));
                FloatVector z3 = t3.add(EXP2_MAGIC), f3 = t3.sub(z3.sub(EXP2_MAGIC));
                FloatVector p3 = f3.fma(P5, P4).lanewise(VectorOperators.FMA, f3, P3).lanewise(VectorOperators.FMA, f3, P2)
                        .lanewise(VectorOperators.FMA, f3, P1).lanewise(VectorOperators.FMA, f3, P0);
                FloatVector e3 = p3.reinterpretAsInts().add(z3.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
                h0 = e0.fma(h0, dtuv.mul(B[k0 + t]));
                h1 = e1.fma(h1, dtuv.mul(B[k1 + t]));
                h2 = e2.fma(h2, dtuv.mul(B[k2 + t]));
                h3 = e3.fma(h3, dtuv.mul(B[k3 + t]));
                FloatVector yt = h0.fma(FloatVector.broadcast(S, C[k0 + t]), FloatVector.fromArray(S, y, o));
                yt = h1.fma(FloatVector.broadcast(S, C[k1 + t]), yt);
                yt = h2.fma(FloatVector.broadcast(S, C[k2 + t]), yt);
                h3.fma(FloatVector.broadcast(S, C[k3 + t]), yt).intoArray(y, o);
            }
        }

        /**
         * The forward of state lanes k, k+1 again, keeping what the reverse sweep needs, interleaved by lane of a quad
         * (lanes k, k+1 are lanes j, j+1 of their quad): dA[(t Q + j) V] = 2^(dt[t] a2_j);  hs[((t+1) Q + j) V] = h_j[t].
         */
        private static void statesPair(int l, float[] dt, float[] dtu, float[] a2T, int aOff, int aStride, float[] B, int bk, int j, float[] dA, float[] hs) {
            FloatVector a0 = FloatVector.fromArray(S, a2T, aOff), a1 = FloatVector.fromArray(S, a2T, aOff + aStride);
            FloatVector h0 = FloatVector.zero(S), h1 = h0;
            int k0 = bk, k1 = bk + l;
            for (int t = 0; t < l; t++) {
                int o = t * V, q = (t * Q + j) * V;
                FloatVector dtv = FloatVector.fromArray(S, dt, o), dtuv = FloatVector.fromArray(S, dtu, o);
                FloatVector e0 = exp2(dtv.mul(a0)), e1 = exp2(dtv.mul(a1));
                e0.intoArray(dA, q);
                e1.intoArray(dA, q + V);
                h0 = e0.fma(h0, dtuv.mul(B[k0 + t]));
                h1 = e1.fma(h1, dtuv.mul(B[k1 + t]));
                h0.intoArray(hs, q + Q * V);
                h1.intoArray(hs, q + (Q + 1) * V);
            }
        }

        /**
         * Reverse sweep of state lanes k .. k+3 (after {@link #statesPair} for both pairs): gh[t] = gy[t] C[t] + dA[t+1] gh[t+1], and
         * sumB[t] += gh B[t];  sumA[t] += gh h[t-1] dA[t] A;  accB[t] += gh dtu[t];  accC[t] += gy[t] h[t]  (each in the order of j);
         * gA_j (into gaLanes[j V ..]) = sum_t gh h[t-1] dA[t] dt[t].  accB/accC (null: not needed) are (l, nq, V), lane j of step t at acc + (t nq + j) V.
         */
        private void reverseQuad(float[] gyT, float[] dt, float[] dtu, int aOff, int bk, float[] dA, float[] hs,
                                 float[] sumB, float[] sumA, float[] accB, float[] accC, int acc, float[] gaLanes) {
            boolean needB = accB != null, needC = accC != null;
            int accStride = nq * V, k0 = bk, k1 = bk + l, k2 = bk + 2 * l, k3 = bk + 3 * l;
            FloatVector a0 = FloatVector.fromArray(S, aT, aOff), a1 = FloatVector.fromArray(S, aT, aOff + dPad);
            FloatVector a2 = FloatVector.fromArray(S, aT, aOff + 2 * dPad), a3 = FloatVector.fromArray(S, aT, aOff + 3 * dPad);
            FloatVector gh0 = FloatVector.zero(S), gh1 = gh0, gh2 = gh0, gh3 = gh0, next0 = gh0, next1 = gh0, next2 = gh0, next3 = gh0;
            FloatVector gA0 = gh0, gA1 = gh0, gA2 = gh0, gA3 = gh0;
            for (int t = l - 1; t >= 0; t--) {
                int o = t * V, q = t * Q * V, h = q + Q * V;
                FloatVector gyt = FloatVector.fromArray(S, gyT, o), dtuT = FloatVector.fromArray(S, dtu, o), dtT = FloatVector.fromArray(S, dt, o);
                gh0 = gh0.fma(next0, gyt.mul(cq[k0 + t]));
                gh1 = gh1.fma(next1, gyt.mul(cq[k1 + t]));
                gh2 = gh2.fma(next2, gyt.mul(cq[k2 + t]));
                gh3 = gh3.fma(next3, gyt.mul(cq[k3 + t]));
                next0 = FloatVector.fromArray(S, dA, q);
                next1 = FloatVector.fromArray(S, dA, q + V);
                next2 = FloatVector.fromArray(S, dA, q + 2 * V);
                next3 = FloatVector.fromArray(S, dA, q + 3 * V);
                // d out / d (dt A) at step t = gh[t] h[t-1] dA[t]   (hs[t Q + j] holds h_j[t-1]; h[-1] = 0)
                FloatVector q0 = gh0.mul(FloatVector.fromArray(S, hs, q)).mul(next0);
                FloatVector q1 = gh1.mul(FloatVector.fromArray(S, hs, q + V)).mul(next1);
                FloatVector q2 = gh2.mul(FloatVector.fromArray(S, hs, q + 2 * V)).mul(next2);
                FloatVector q3 = gh3.mul(FloatVector.fromArray(S, hs, q + 3 * V)).mul(next3);
                FloatVector sb = gh0.fma(FloatVector.broadcast(S, bq[k0 + t]), FloatVector.fromArray(S, sumB, o));
                sb = gh1.fma(FloatVector.broadcast(S, bq[k1 + t]), sb);
                sb = gh2.fma(FloatVector.broadcast(S, bq[k2 + t]), sb);
                gh3.fma(FloatVector.broadcast(S, bq[k3 + t]), sb).intoArray(sumB, o);
                FloatVector sa = q0.fma(a0, FloatVector.fromArray(S, sumA, o));
                sa = q1.fma(a1, sa);
                sa = q2.fma(a2, sa);
                q3.fma(a3, sa).intoArray(sumA, o);
                gA0 = q0.fma(dtT, gA0);
                gA1 = q1.fma(dtT, gA1);
                gA2 = q2.fma(dtT, gA2);
                gA3 = q3.fma(dtT, gA3);
                if (needC) {
                    int c = acc + t * accStride;
                    gyt.fma(FloatVector.fromArray(S, hs, h), FloatVector.fromArray(S, accC, c)).intoArray(accC, c);
                    gyt.fma(FloatVector.fromArray(S, hs, h + V), FloatVector.fromArray(S, accC, c + V)).intoArray(accC, c + V);
                    gyt.fma(FloatVector.fromArray(S, hs, h + 2 * V), FloatVector.fromArray(S, accC, c + 2 * V)).intoArray(accC, c + 2 * V);
                    gyt.fma(FloatVector.fromArray(S, hs, h + 3 * V), FloatVector.fromArray(S, accC, c + 3 * V)).intoArray(accC, c + 3 * V);
                }
                if (needB) {
                    int c = acc + t * accStride;
                    gh0.fma(dtuT, FloatVector.fromArray(S, accB, c)).intoArray(accB, c);
                    gh1.fma(dtuT, FloatVector.fromArray(S, accB, c + V)).intoArray(accB, c + V);
                    gh2.fma(dtuT, FloatVector.fromArray(S, accB, c + 2 * V)).intoArray(accB, c + 2 * V);
                    gh3.fma(dtuT, FloatVector.fromArray(S, accB, c + 3 * V)).intoArray(accB, c + 3 * V);
                }
            }
            gA0.intoArray(gaLanes, 0);
            gA1.intoArray(gaLanes, V);
            gA2.intoArray(gaLanes, 2 * V);
            gA3.intoArray(gaLanes, 3 * V);
        }

        private static void mul(float[] a, float[] b, float[] out, int end) {
            for (int o = 0; o < end; o += V) FloatVector.fromArray(S, a, o).mul(FloatVector.fromArray(S, b, o)).intoArray(out, o);
        }

        /** y[t] += s x[t] with s the lanes of scale at off (mul, then add). */
        private static void addScaled(float[] y, float[] scale, int off, float[] x, int end) {
            FloatVector s = FloatVector.fromArray(S, scale, off);
            for (int o = 0; o < end; o += V) FloatVector.fromArray(S, y, o).add(s.mul(FloatVector.fromArray(S, x, o))).intoArray(y, o);
        }

        /** Lane-wise sums over t (in order of t) of a[t], or of a[t] b[t] when b is given, into out[0 .. V). */
        private static void sumOverTime(float[] a, float[] b, int end, float[] out) {
            FloatVector s = FloatVector.zero(S);
            if (b == null) {
                for (int o = 0; o < end; o += V) s = s.add(FloatVector.fromArray(S, a, o));
            } else {
                for (int o = 0; o < end; o += V) s = s.add(FloatVector.fromArray(S, a, o).mul(FloatVector.fromArray(S, b, o)));
            }
            s.intoArray(out, 0);
        }

        /**
         * Accumulates all requested gradients; each output array is null when not needed.
         * gu and gdelta are the inputs' own gradient buffers (tasks own disjoint rows).
         */
        void backward(float[] gy, float[] gu, boolean addGu, float[] gdelta, boolean addGdelta,
                      float[] gA, float[] gB, float[] gC, float[] gD, float[] gBias) {
            boolean needDt = gdelta != null || gBias != null;
            // Per-task partials: A, D, bias per batch element (tasks of one batch element own disjoint channels);
            // B, C per task (the channel groups of a batch element each hold a partial sum over their channels).
            float[] gAPart = gA != null ? new float[b * d * n] : null;
            float[] gDPart = gD != null ? new float[b * d] : null;
            float[] gBiasPart = gBias != null ? new float[b * d] : null;
            float[] gBPart = gB != null ? new float[tasks * n * l] : null;
            float[] gCPart = gC != null ? new float[tasks * n * l] : null;
            Parallel.forEach(tasks, task -> backwardTask(task, gy, gu, addGu, gdelta, addGdelta, needDt, gAPart, gDPart, gBiasPart, gBPart, gCPart));
            if (gA != null) addSlices(gAPart, b, gA);
            if (gD != null) addSlices(gDPart, b, gD);
            if (gBias != null) addSlices(gBiasPart, b, gBias);
            if (gB != null) addGroups(gBPart, gB);
            if (gC != null) addGroups(gCPart, gC);
        }

        /**
         * dst += the sum of {@code parts} consecutive slices of part, added in slice order from 0: per element the
         * same sum as a scalar loop, but vectorized and over column ranges in parallel (this ran serially on the
         * calling thread and took a few ms per call).
         */
        private static void addSlices(float[] part, int parts, float[] dst) {
            sumSlicesInto(part, 0, parts, dst.length, dst, 0);
        }

        /** (tasks, n, l) partials into (b, n, l): the groups of each batch element summed in order. */
        private void addGroups(float[] part, float[] dst) {
            int len = n * l;
            // one group per batch element: part has dst's layout, one sum over all of it (in parallel)
            if (groups == 1) sumSlicesInto(part, 0, 1, b * len, dst, 0);
            else for (int bi = 0; bi < b; bi++) sumSlicesInto(part, bi * groups * len, groups, len, dst, bi * len);
        }

        /** dst[dOff + i] += (0 + part[off + i] + part[off + len + i] + ... ) over {@code parts} slices of len. */
        private static void sumSlicesInto(float[] part, int off, int parts, int len, float[] dst, int dOff) {
            Parallel.forRange(len, 4096, (s, e) -> {
                for (int c0 = s; c0 < e; c0 += SUM_BLOCK) { // a block of the running sums stays in L1
                    int c1 = Math.min(e, c0 + SUM_BLOCK), w = c1 - c0;
                    float[] sum = SCRATCH.get().get(13, SUM_BLOCK);
                    java.util.Arrays.fill(sum, 0, w, 0f);
                    for (int p = 0; p < parts; p++) VecMath.addInto(w, part, off + p * len + c0, sum, 0);
                    VecMath.addInto(w, sum, 0, dst, dOff + c0);
                }
            });
        }

        private static final int SUM_BLOCK = 2048;

        void backwardTask(int task, float[] gy, float[] gu, boolean addGu, float[] gdelta, boolean addGdelta, boolean needDt,
                          float[] gAPart, float[] gDPart, float[] gBiasPart,
                          float[] gBPart, float[] gCPart) {
            int bi = task / groups, g = task % groups;
            int lv = l * V;
            Scratch sc = SCRATCH.get();
            float[] x = sc.get(0, lv), dt = sc.get(1, lv), uT = sc.get(2, lv), dtu = sc.get(3, lv), gyT = sc.get(4, lv);
            float[] dA = sc.get(5, Q * lv), hs = sc.get(6, Q * (lv + V));
            java.util.Arrays.fill(hs, 0, Q * V, 0f); // hs[0 .. Q V) = h[-1] = 0, never written
            // sumB[t] = sum_k gh[k] B[k,t];  sumA[t] = sum_k gh[k] h[t-1,k] dA[t,k] A[k]  (per lane = channel)
            float[] sumB = sc.get(7, lv), sumA = sc.get(8, lv);
            // Lane-wise partial sums over the task's channels of gB and gC, (l, nq, V); lanes summed at the end.
            float[] accB = gBPart != null ? sc.get(9, nq * lv) : null, accC = gCPart != null ? sc.get(10, nq * lv) : null;
            if (accB != null) java.util.Arrays.fill(accB, 0, nq * lv, 0f);
            if (accC != null) java.util.Arrays.fill(accC, 0, nq * lv, 0f);
            float[] lanes = sc.get(11, Q * V), tile = sc.get(12, V * V);
            int bOff = bi * nq * l;
            for (int blk = blockStart(g), end = blockStart(g + 1); blk < end; blk++) {
                int c0 = blk * V, nc = Math.min(V, d - c0);
                loadBlock(bi, c0, x, dt, uT);
                transposeIn(gy, bi, c0, gyT);
                mul(dt, uT, dtu, lv);
                java.util.Arrays.fill(sumB, 0, lv, 0f);
                java.util.Arrays.fill(sumA, 0, lv, 0f);
                for (int k = 0; k < nq; k += Q) {
                    statesPair(l, dt, dtu, a2T, k * dPad + c0, dPad, bq, bOff + k * l, 0, dA, hs);
                    statesPair(l, dt, dtu, a2T, (k + 2) * dPad + c0, dPad, bq, bOff + (k + 2) * l, 2, dA, hs);
                    reverseQuad(gyT, dt, dtu, k * dPad + c0, bOff + k * l, dA, hs, sumB, sumA, accB, accC, k * V, lanes);
                    if (gAPart != null) {
                        for (int j = 0; j < Q && k + j < n; j++) {
                            for (int c = 0; c < nc; c++) gAPart[(bi * d + c0 + c) * n + k + j] = lanes[j * V + c];
                        }
                    }
                }
                if (gDPart != null) {
                    sumOverTime(gyT, uT, lv, lanes);
                    System.arraycopy(lanes, 0, gDPart, bi * d + c0, nc);
                }
                if (needDt) {
                    // gdt = u sumB + sumA, through the softplus: times sigmoid(x)
                    blockDtGrad(x, uT, sumB, sumA);
                    if (gdelta != null) transposeOut(sumA, bi, c0, gdelta, addGdelta, tile);
                    if (gBiasPart != null) {
                        sumOverTime(sumA, null, lv, lanes);
                        System.arraycopy(lanes, 0, gBiasPart, bi * d + c0, nc);
                    }
                }
                if (gu != null) {
                    // gu = dt sumB + D gy
                    mul(dt, sumB, sumB, lv);
                    addScaled(sumB, dPadded, c0, gyT, lv);
                    transposeOut(sumB, bi, c0, gu, addGu, tile);
                }
            }
            if (gBPart != null) sumLanes(accB, nq, n, l, gBPart, task * n * l);
            if (gCPart != null) sumLanes(accC, nq, n, l, gCPart, task * n * l);
        }

        /** dst[dOff + k l + t] = the sum of the V lanes of acc[(t nq + k) V ..] (fixed order), for k &lt; n, t &lt; l. */
        private static void sumLanes(float[] acc, int nq, int n, int l, float[] dst, int dOff) {
            for (int t = 0; t < l; t++) {
                for (int k = 0; k < n; k++) dst[dOff + k * l + t] = VecMath.sumLanes(FloatVector.fromArray(S, acc, (t * nq + k) * V));
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
            int nc = Math.min(V, d - c0), row0 = (bi * d + c0) * l, t0 = 0;
            if (V == TILE && nc == V) {
                for (; t0 + V <= l; t0 += V) Transpose16.tile(src, row0 + t0, l, dst, t0 * V, V);
            }
            for (int c = 0; c < V; c++) {
                if (c >= nc) {
                    for (int t = t0; t < l; t++) dst[t * V + c] = 0f;
                    continue;
                }
                int row = row0 + c * l;
                for (int t = t0; t < l; t++) dst[t * V + c] = src[row + t];
            }
        }

        /**
         * The real channels of time-major src into the (b, d, l) rows of batch bi: dst = src, or dst += src when add.
         * tile: V x V scratch.
         */
        private void transposeOut(float[] src, int bi, int c0, float[] dst, boolean add, float[] tile) {
            int nc = Math.min(V, d - c0), row0 = (bi * d + c0) * l, t0 = 0;
            if (V == TILE && nc == V) {
                for (; t0 + V <= l; t0 += V) {
                    if (add) {
                        Transpose16.tile(src, t0 * V, V, tile, 0, V);
                        addRows(tile, dst, row0 + t0, l);
                    } else {
                        Transpose16.tile(src, t0 * V, V, dst, row0 + t0, l);
                    }
                }
            }
            for (int c = 0; c < nc; c++) {
                int row = row0 + c * l;
                if (add) {
                    for (int t = t0; t < l; t++) dst[row + t] += src[t * V + c];
                } else {
                    for (int t = t0; t < l; t++) dst[row + t] = src[t * V + c];
                }
            }
        }
    }

    // ---- transposes --------------------------------------------------------------------------

    /** The vector length for which {@link Transpose16#tile} exists; other lengths take the scalar loops. */
    private static final int TILE = Transpose16.SIZE;

    /** dst[dOff + i stride + c] += tile[i V + c] for the V x V tile. */
    private static void addRows(float[] tile, float[] dst, int dOff, int stride) {
        for (int i = 0; i < V; i++) {
            int o = dOff + i * stride;
            FloatVector.fromArray(S, dst, o).add(FloatVector.fromArray(S, tile, i * V)).intoArray(dst, o);
        }
    }

    // ---- vector math ---------------------------------------------------------------------

    /**
     * 2^t, t clamped to the normal range [-126, 127]: a polynomial on the fraction, the integer part added to the exponent bits.
     * Small and static so that C2 inlines it into the loops above (a vector crossing a call that is not inlined is boxed).
     */
    private static FloatVector exp2(FloatVector x) {
        // the clamp as compare and blend: the same result as max / min (also for NaN and -0), but max and min
        // compile to instruction sequences for the Java rules on NaN and signed zeros
        FloatVector t = x.blend(-126f, x.compare(LT, -126f)).blend(127f, x.compare(GT, 127f));
        FloatVector z = t.add(EXP2_MAGIC); // rounds t to an integer k held in the low mantissa bits
        FloatVector f = t.sub(z.sub(EXP2_MAGIC)); // t - k in [-0.5, 0.5]
        FloatVector p = f.fma(P5, P4).lanewise(VectorOperators.FMA, f, P3).lanewise(VectorOperators.FMA, f, P2)
                .lanewise(VectorOperators.FMA, f, P1).lanewise(VectorOperators.FMA, f, P0);
        // bits(z) << 23 == k << 23 (mod 2^32): adding it to p's bits multiplies p by 2^k.
        IntVector scale = z.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        return p.reinterpretAsInts().add(scale).reinterpretAsFloats();
    }

    private static final float EXP2_MAGIC = 12582912f; // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
    // Minimax (relative error) fit of 2^f on [-0.5, 0.5]; max relative error 2.3e-7 in float arithmetic.
    private static final float P0 = 1.0000001f, P1 = 0.69314694f, P2 = 0.2402212f, P3 = 0.05550713f, P4 = 0.009675542f, P5 = 0.0013276471f;
}
