package org.mambavision.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.kernels.VecMath;

/**
 * Fused scaled dot-product attention: softmax(q k^T * scale) v per (batch, head).
 *
 * <p>Forward: tasks are (batch*head, block of query rows); each computes its score block into a
 * per-thread buffer with {@link Gemm#sgemm}, applies a stable softmax in place and multiplies by v.
 * Only the log-sum-exp of every score row is kept for the backward, which recomputes the
 * probabilities (flash-attention style) instead of storing N x N per head.
 *
 * <p>The kernel reads q, k, v and writes the output through (offset, row stride) addressing, so the
 * {@link #qkvAttention} layout of one fused Linear output needs no permute copies.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = VecMath.S;
    /** Query rows per block in the backward (bounds the per-thread buffers to 2 x rows x N floats). */
    private static final int BACKWARD_ROWS = 256;

    private Attention() {}

    /** Where head (b, h) of q, k, v and of the output live in their arrays. */
    private record Layout(int batch, int heads, int n, int hd,
                          int inBatch, int inHead, int inRow, int qBase, int kBase, int vBase,
                          int outBatch, int outHead, int outRow) {
        int in(int bh) { return (bh / heads) * inBatch + (bh % heads) * inHead; }

        int out(int bh) { return (bh / heads) * outBatch + (bh % heads) * outHead; }
    }

    private static final class Buffers {
        float[] scores = new float[0], dScores = new float[0];

        float[] scores(int n) {
            if (scores.length < n) scores = new float[n];
            return scores;
        }

        float[] dScores(int n) {
            if (dScores.length < n) dScores = new float[n];
            return dScores;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    /** q, k, v: (B, H, N, hd) -> softmax(q k^T * scale) v: (B, H, N, hd). */
    public static Tensor forward(Tensor q, Tensor k, Tensor v, float scale) {
        if (q.rank() != 4 || !q.sameShape(k) || !q.sameShape(v)) {
            throw new IllegalArgumentException("Attention: q, k, v must be (B, H, N, hd) of one shape, got "
                    + q.shapeString() + ", " + k.shapeString() + ", " + v.shapeString());
        }
        int b = q.dim(0), h = q.dim(1), n = q.dim(2), hd = q.dim(3);
        int head = n * hd;
        Layout L = new Layout(b, h, n, hd, h * head, head, hd, 0, 0, 0, h * head, head, hd);
        Tensor out = Tensor.empty(b, h, n, hd);
        boolean save = Tape.needsGrad(q, k, v);
        float[] lse = save ? new float[b * h * n] : null;
        forwardKernel(L, q.data, k.data, v.data, out.data, scale, lse);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(q, k, v)) tr.bind(out, emitCore(tr, tr.name(q), tr.name(k), tr.name(v), scale));
        Tape.record(out, () -> {
            // A gradient nothing has written yet is assigned by the kernel (beta 0), not zero-filled and added to;
            // not when two of q, k, v are one tensor (its gradient sums both parts).
            boolean distinct = q != k && k != v && q != v;
            boolean freshQ = distinct && q.requiresGrad() && q.allocateGradForOverwrite();
            boolean freshK = distinct && k.requiresGrad() && k.allocateGradForOverwrite();
            boolean freshV = distinct && v.requiresGrad() && v.allocateGradForOverwrite();
            backwardKernel(L, q.data, k.data, v.data, out.data, out.grad, lse, scale,
                    q.requiresGrad() ? q.gradBuffer() : null, freshQ, k.requiresGrad() ? k.gradBuffer() : null, freshK,
                    v.requiresGrad() ? v.gradBuffer() : null, freshV);
        }, q, k, v);
        return out;
    }

    /**
     * qkv: (B, N, 3C) from one Linear, read as {@code qkv.reshape(B, N, 3, heads, hd).permute(2, 0, 3, 1, 4)};
     * returns the attention output in the layout {@code x.transpose(1, 2).reshape(B, N, C)}.
     */
    public static Tensor qkvAttention(Tensor qkv, int heads, float scale) {
        if (qkv.rank() != 3 || heads <= 0 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("Attention.qkvAttention: qkv must be (B, N, 3*C) with C divisible by heads="
                    + heads + ", got " + qkv.shapeString());
        }
        int b = qkv.dim(0), n = qkv.dim(1), c = qkv.dim(2) / 3, hd = c / heads;
        Layout L = new Layout(b, heads, n, hd, n * 3 * c, hd, 3 * c, 0, c, 2 * c, n * c, hd, c);
        Tensor out = Tensor.empty(b, n, c);
        boolean save = Tape.needsGrad(qkv);
        float[] lse = save ? new float[b * heads * n] : null;
        float[] d = qkv.data;
        forwardKernel(L, d, d, d, out.data, scale, lse);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(qkv)) {
            String heads5 = tr.transpose(tr.reshape(qkv, b, n, 3, heads, hd), 2, 0, 3, 1, 4);   // (3, B, heads, N, hd)
            String[] qkvNames = new String[3];
            for (int i = 0; i < 3; i++) qkvNames[i] = tr.tmp("Gather", heads5, tr.longScalar(i), OpTrace.Attr.i("axis", 0));
            String o = emitCore(tr, qkvNames[0], qkvNames[1], qkvNames[2], scale);          // (B, heads, N, hd)
            tr.bind(out, tr.reshape(tr.transpose(o, 0, 2, 1, 3), b, n, c));
        }
        Tape.record(out, () -> {
            // each element of a fresh gradient is q's, k's or v's of one head: assigned once, not zero-filled
            boolean fresh = qkv.allocateGradForOverwrite();
            float[] g = qkv.grad;
            backwardKernel(L, d, d, d, out.data, out.grad, lse, scale, g, fresh, g, fresh, g, fresh);
        }, qkv);
        return out;
    }

    /** softmax(q k^T * scale) v as MatMul, Softmax, MatMul on (B, H, N, hd) values; returns the output's name. */
    private static String emitCore(OpTrace tr, String q, String k, String v, float scale) {
        String scores = tr.tmp("MatMul", tr.tmp("Mul", q, tr.scalar(scale)), tr.transpose(k, 0, 1, 3, 2));
        return tr.tmp("MatMul", tr.tmp("Softmax", scores, OpTrace.Attr.i("axis", -1)), v);
    }

    private static void forwardKernel(Layout L, float[] q, float[] k, float[] v, float[] o, float scale, float[] lse) {
        int bh = L.batch * L.heads, n = L.n, hd = L.hd;
        if (bh == 0 || n == 0) return;
        // enough tasks to fill the pool: split the query rows when there are few heads
        int wanted = Parallel.threads() * 2;
        int blocks = bh >= wanted ? 1 : Math.min(n, (wanted + bh - 1) / bh);
        int rowsPerBlock = (n + blocks - 1) / blocks;
        int nBlocks = (n + rowsPerBlock - 1) / rowsPerBlock;
        Parallel.forEach(bh * nBlocks, task -> {
            int head = task / nBlocks, i0 = (task % nBlocks) * rowsPerBlock, i1 = Math.min(n, i0 + rowsPerBlock);
            int rows = i1 - i0;
            int in = L.in(head), outOff = L.out(head), ld = paddedRow(n);
            float[] s = BUFFERS.get().scores(rows * ld);
            Gemm.sgemm(false, true, rows, n, hd, q, L.qBase + in + i0 * L.inRow, L.inRow,
                    k, L.kBase + in, L.inRow, 0f, s, 0, ld);
            for (int r = 0; r < rows; r++) {
                java.util.Arrays.fill(s, r * ld + n, (r + 1) * ld, Float.NEGATIVE_INFINITY); // exp gives 0 there
                float l = VecMath.softmaxScaled(s, r * ld, ld, scale);
                if (lse != null) lse[head * n + i0 + r] = l;
            }
            Gemm.sgemm(false, false, rows, hd, n, s, 0, ld, v, L.vBase + in, L.inRow, 0f,
                    o, outOff + i0 * L.outRow, L.outRow);
        });
    }

    /**
     * With P = softmax(S), S = q k^T * scale, O = P v and upstream dO:
     * dv += P^T dO; dP = dO v^T; dS = P * (dP - rowsum(dO * O)); dq += dS k * scale; dk += dS^T q * scale.
     */
    private static void backwardKernel(Layout L, float[] q, float[] k, float[] v, float[] o, float[] g, float[] lse,
                                       float scale, float[] gq, boolean freshQ, float[] gk, boolean freshK, float[] gv, boolean freshV) {
        int bh = L.batch * L.heads, n = L.n, hd = L.hd, ld = paddedRow(n);
        if (bh == 0 || n == 0) return;
        int blockRows = Math.min(n, BACKWARD_ROWS);
        // each task owns one head: its dk, dv rows are written by nobody else
        Parallel.forEach(bh, head -> {
            int in = L.in(head), outOff = L.out(head);
            Buffers buf = BUFFERS.get();
            float[] p = buf.scores(blockRows * ld), dp = buf.dScores(blockRows * ld);
            for (int i0 = 0; i0 < n; i0 += blockRows) {
                int rows = Math.min(blockRows, n - i0);
                int qOff = L.qBase + in + i0 * L.inRow, gOff = outOff + i0 * L.outRow;
                // dk and dv sum over the query blocks: the first one assigns a fresh gradient; dq's rows are this block's own
                float betaQ = freshQ ? 0f : 1f, betaKV = i0 == 0 ? 0f : 1f;
                // recompute the probabilities of this block (0 in the padding)
                Gemm.sgemm(false, true, rows, n, hd, q, qOff, L.inRow, k, L.kBase + in, L.inRow, 0f, p, 0, ld);
                for (int r = 0; r < rows; r++) {
                    java.util.Arrays.fill(p, r * ld + n, (r + 1) * ld, Float.NEGATIVE_INFINITY);
                    probabilitiesFromScores(p, r * ld, ld, scale, lse[head * n + i0 + r]);
                }
                if (gv != null) {
                    Gemm.sgemm(true, false, n, hd, rows, p, 0, ld, g, gOff, L.outRow, freshV ? betaKV : 1f, gv, L.vBase + in, L.inRow);
                }
                if (gq == null && gk == null) continue;
                Gemm.sgemm(false, true, rows, n, hd, g, gOff, L.outRow, v, L.vBase + in, L.inRow, 0f, dp, 0, ld);
                for (int r = 0; r < rows; r++) {
                    java.util.Arrays.fill(dp, r * ld + n, (r + 1) * ld, 0f); // finite, so that 0 * it stays 0
                    float dOdotO = (float) VecMath.dot(g, gOff + r * L.outRow, o, gOff + r * L.outRow, hd);
                    scoreGradient(p, dp, r * ld, ld, dOdotO, scale);
                }
                if (gq != null) {
                    Gemm.sgemm(false, false, rows, hd, n, dp, 0, ld, k, L.kBase + in, L.inRow, betaQ, gq, qOff, L.inRow);
                }
                if (gk != null) {
                    Gemm.sgemm(true, false, n, hd, rows, dp, 0, ld, q, qOff, L.inRow, freshK ? betaKV : 1f, gk, L.kBase + in, L.inRow);
                }
            }
        });
    }

    /**
     * The row stride of the score buffers: n rounded up to whole vectors, the columns past n set so that they
     * contribute nothing, so that the row passes (softmax, exp, score gradient) have no scalar tail.
     */
    private static int paddedRow(int n) {
        return (n + S.length() - 1) / S.length() * S.length();
    }

    /** p = exp(s * scale - lse) over one row, in place. */
    private static void probabilitiesFromScores(float[] p, int off, int n, float scale, float lse) {
        int j = 0, bound = S.loopBound(n);
        FloatVector negLse = FloatVector.broadcast(S, -lse), vs = FloatVector.broadcast(S, scale);
        for (; j < bound; j += S.length()) {
            VecMath.exp(FloatVector.fromArray(S, p, off + j).fma(vs, negLse)).intoArray(p, off + j);
        }
        for (; j < n; j++) p[off + j] = VecMath.exp(p[off + j] * scale - lse);
    }

    /** dS = P * (dP - rowsum(dO * O)) * scale over one row, into dp. */
    private static void scoreGradient(float[] p, float[] dp, int off, int n, float dOdotO, float scale) {
        int j = 0, bound = S.loopBound(n);
        for (; j < bound; j += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, off + j);
            pv.mul(FloatVector.fromArray(S, dp, off + j).sub(dOdotO)).mul(scale).intoArray(dp, off + j);
        }
        for (; j < n; j++) dp[off + j] = p[off + j] * (dp[off + j] - dOdotO) * scale;
    }
}
