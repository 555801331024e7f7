package org.mambavision.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;

/**
 * Single-precision matrix multiply: C = op(A) * op(B) + beta * C, with op(A) of shape M x K and
 * op(B) of shape K x N, row-major with leading dimensions lda, ldb, ldc.
 * transA: A is stored K x M (op(A) = A^T); transB: B is stored N x K.
 * beta == 0 means C is overwritten and never read (NaNs in C do not propagate).
 *
 * <p>Layout of the fast path (GotoBLAS/BLIS style):
 * <ul>
 *   <li>C is cut into tiles of at most {@link #MC_MAX} x {@link #NC_MAX}; each tile is one task of
 *       {@link Parallel#forEach}. A task owns its tile for the whole K loop, so every element of C is
 *       computed by one thread with a fixed K order: results do not depend on the thread count.</li>
 *   <li>For each K block of {@link #KC}, the task packs op(A) rows into micro-panels of {@link #MR}
 *       rows ([k][MR] order) and op(B) columns into micro-panels of {@link #NR} columns ([k][NR]),
 *       zero-padded at the edges, into per-thread buffers. The four transpose cases differ only in
 *       the packing, never in the micro-kernel.</li>
 *   <li>The micro-kernel keeps an MR x NR block of C (8 rows x 3 vectors) in registers and does one
 *       broadcast-FMA per accumulator per k.</li>
 * </ul>
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final int L = S.length();

    /** Rows of the register block (broadcast operands). */
    static final int MR = 8;
    /** Vectors per row of the register block: 8 x 3 = 24 accumulators fit AVX-512's 32 registers. */
    private static final int NRV = 3;
    /** Columns of the register block. */
    static final int NR = NRV * L;
    /** Depth of a packed block: A micro-panel (MR x KC) stays in L1, the B block (KC x NC) in L2. */
    static final int KC = 256;
    /** Largest tile of C per task. */
    static final int MC_MAX = 192;
    static final int NC_MAX = roundUp(576, NR);
    /** Below this many flops the threads cost more than they save. */
    private static final long PARALLEL_FLOPS = 1L << 22;

    /** Per-thread packing buffers, reused across calls. */
    private static final class Workspace {
        final float[] a = new float[MC_MAX * KC];
        final float[] b = new float[KC * NC_MAX];
        final float[] edge = new float[MR * NR];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {}

    public static void sgemm(boolean transA, boolean transB, int M, int N, int K,
                             float[] A, int offA, int lda, float[] B, int offB, int ldb,
                             float beta, float[] C, int offC, int ldc) {
        if (M < 0 || N < 0 || K < 0) throw new IllegalArgumentException("sgemm: negative size " + M + "x" + N + "x" + K);
        if (M == 0 || N == 0) return;
        if (K == 0) {
            scale(M, N, beta, C, offC, ldc);
            return;
        }
        long flops = 2L * M * N * K;
        int minTasks = flops < PARALLEL_FLOPS ? 1 : 2 * Parallel.threads();
        // Tile sizes: as large as the caches allow, split further until every thread has work.
        int tilesM = ceilDiv(M, MC_MAX), tilesN = ceilDiv(N, NC_MAX);
        int mc = roundUp(ceilDiv(M, tilesM), MR), nc = roundUp(ceilDiv(N, tilesN), NR);
        while (ceilDiv(M, mc) * ceilDiv(N, nc) < minTasks) {
            if (nc > NR && (nc >= mc || mc <= 4 * MR)) nc = roundUp(ceilDiv(N, ceilDiv(N, nc) + 1), NR);
            else if (mc > MR) mc = roundUp(ceilDiv(M, ceilDiv(M, mc) + 1), MR);
            else break;
        }
        final int tileM = mc, tileN = nc, nTilesN = ceilDiv(N, nc), nTiles = ceilDiv(M, mc) * nTilesN;
        java.util.function.IntConsumer task = t -> {
            int i0 = (t / nTilesN) * tileM, j0 = (t % nTilesN) * tileN;
            tile(transA, transB, i0, Math.min(tileM, M - i0), j0, Math.min(tileN, N - j0), K,
                    A, offA, lda, B, offB, ldb, beta, C, offC, ldc);
        };
        if (minTasks == 1) {
            for (int t = 0; t < nTiles; t++) task.accept(t);
        } else {
            Parallel.forEach(nTiles, task);
        }
    }

    /** Plain triple loop with the same contract as {@link #sgemm}; for tests. */
    public static void reference(boolean transA, boolean transB, int M, int N, int K,
                                 float[] A, int offA, int lda, float[] B, int offB, int ldb,
                                 float beta, float[] C, int offC, int ldc) {
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++) {
                    float a = transA ? A[offA + k * lda + i] : A[offA + i * lda + k];
                    float b = transB ? B[offB + j * ldb + k] : B[offB + k * ldb + j];
                    s += a * b;
                }
                int c = offC + i * ldc + j;
                C[c] = beta == 0 ? s : s + beta * C[c];
            }
        }
    }

    private static void scale(int M, int N, float beta, float[] C, int offC, int ldc) {
        for (int i = 0; i < M; i++) {
            int c = offC + i * ldc;
            for (int j = 0; j < N; j++) C[c + j] = beta == 0 ? 0f : beta * C[c + j];
        }
    }

    /** Computes the mc x nc tile of C at (i0, j0) over the whole K range, block by block. */
    private static void tile(boolean transA, boolean transB, int i0, int mc, int j0, int nc, int K,
                             float[] A, int offA, int lda, float[] B, int offB, int ldb,
                             float beta, float[] C, int offC, int ldc) {
        Workspace w = WORKSPACE.get();
        float[] ap = w.a, bp = w.b;
        // Element (k, i) of op(A) sits at A[aBase + k*aK + i*aI]; likewise (k, j) of op(B).
        int aK = transA ? lda : 1, aI = transA ? 1 : lda;
        int bK = transB ? 1 : ldb, bJ = transB ? ldb : 1;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = Math.min(KC, K - k0);
            float blockBeta = k0 == 0 ? beta : 1f;
            for (int i = 0; i < mc; i += MR) {
                packPanel(A, offA + k0 * aK + (i0 + i) * aI, aK, aI, kc, Math.min(MR, mc - i), MR, ap, i * kc);
            }
            for (int j = 0; j < nc; j += NR) {
                packPanel(B, offB + k0 * bK + (j0 + j) * bJ, bK, bJ, kc, Math.min(NR, nc - j), NR, bp, j * kc);
            }
            for (int i = 0; i < mc; i += MR) {
                int rows = Math.min(MR, mc - i);
                for (int j = 0; j < nc; j += NR) {
                    int cols = Math.min(NR, nc - j);
                    int c = offC + (i0 + i) * ldc + j0 + j;
                    if (rows == MR && cols == NR) {
                        kernel(kc, ap, i * kc, bp, j * kc, C, c, ldc, blockBeta);
                    } else {
                        kernel(kc, ap, i * kc, bp, j * kc, w.edge, 0, NR, 0f);
                        mergeEdge(w.edge, rows, cols, C, c, ldc, blockBeta);
                    }
                }
            }
        }
    }

    /**
     * Packs a micro-panel of {@code count} (<= width) lines into dst[d + k*width + x] for k < kc,
     * x < width, zero-filling x >= count. Element (k, x) of the source is src[s + k*strideK + x*strideX].
     */
    private static void packPanel(float[] src, int s, int strideK, int strideX, int kc, int count, int width,
                                  float[] dst, int d) {
        if (count == width && strideX == 1) {
            copyRows(src, s, strideK, kc, width, dst, d);
        } else if (count == width && strideK == 1 && width % 8 == 0) {
            for (int x = 0; x < width; x += 8) transpose8(src, s + x * strideX, strideX, kc, dst, d + x, width);
        } else {
            for (int k = 0; k < kc; k++) {
                int o = d + k * width;
                for (int x = 0; x < count; x++) dst[o + x] = src[s + k * strideK + x * strideX];
                for (int x = count; x < width; x++) dst[o + x] = 0f;
            }
        }
    }

    /** dst[d + k*width + x] = src[s + k*ld + x]: a panel whose lines are already contiguous. */
    private static void copyRows(float[] src, int s, int ld, int kc, int width, float[] dst, int d) {
        if (width == MR && S8.length() == MR) {
            for (int k = 0; k < kc; k++) FloatVector.fromArray(S8, src, s + k * ld).intoArray(dst, d + k * MR);
        } else if (width % L == 0) {
            for (int k = 0; k < kc; k++) {
                int si = s + k * ld, di = d + k * width;
                for (int x = 0; x < width; x += L) FloatVector.fromArray(S, src, si + x).intoArray(dst, di + x);
            }
        } else {
            for (int k = 0; k < kc; k++) System.arraycopy(src, s + k * ld, dst, d + k * width, width);
        }
    }

    /** dst[d + k*dstStride + r] = src[s + r*ld + k] for r < 8: eight rows, read along k, written interleaved. */
    private static void transpose8(float[] src, int s, int ld, int kc, float[] dst, int d, int dstStride) {
        int s0 = s, s1 = s0 + ld, s2 = s1 + ld, s3 = s2 + ld, s4 = s3 + ld, s5 = s4 + ld, s6 = s5 + ld, s7 = s6 + ld;
        for (int k = 0; k < kc; k++) {
            int o = d + k * dstStride;
            dst[o] = src[s0 + k];
            dst[o + 1] = src[s1 + k];
            dst[o + 2] = src[s2 + k];
            dst[o + 3] = src[s3 + k];
            dst[o + 4] = src[s4 + k];
            dst[o + 5] = src[s5 + k];
            dst[o + 6] = src[s6 + k];
            dst[o + 7] = src[s7 + k];
        }
    }

    /** Writes a partial tile computed into {@code edge} (ld NR) into C with the same arithmetic as the kernel. */
    private static void mergeEdge(float[] edge, int rows, int cols, float[] C, int c, int ldc, float beta) {
        for (int r = 0; r < rows; r++) {
            int ci = c + r * ldc, ei = r * NR;
            for (int x = 0; x < cols; x++) {
                float v = edge[ei + x];
                C[ci + x] = beta == 0 ? v : beta == 1 ? C[ci + x] + v : Math.fma(C[ci + x], beta, v);
            }
        }
    }

    /**
     * The MR x NR register block: C[c + r*ldc + x] = sum_k a[pa + k*MR + r] * b[pb + k*NR + x] (+ beta*C).
     * Written out for MR = 8 and NRV = 3 so that the 24 accumulators stay in registers.
     */
    private static void kernel(int kc, float[] a, int pa, float[] b, int pb, float[] c, int pc, int ldc, float beta) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        for (int k = 0; k < kc; k++) {
            int ia = pa + k * MR, ib = pb + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, ib);
            FloatVector b1 = FloatVector.fromArray(S, b, ib + L);
            FloatVector b2 = FloatVector.fromArray(S, b, ib + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ia]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[ia + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[ia + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[ia + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(S, a[ia + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(S, a[ia + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(S, a[ia + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(S, a[ia + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
        }
        storeRow(c, pc, beta, c00, c01, c02);
        storeRow(c, pc + ldc, beta, c10, c11, c12);
        storeRow(c, pc + 2 * ldc, beta, c20, c21, c22);
        storeRow(c, pc + 3 * ldc, beta, c30, c31, c32);
        storeRow(c, pc + 4 * ldc, beta, c40, c41, c42);
        storeRow(c, pc + 5 * ldc, beta, c50, c51, c52);
        storeRow(c, pc + 6 * ldc, beta, c60, c61, c62);
        storeRow(c, pc + 7 * ldc, beta, c70, c71, c72);
    }

    private static void storeRow(float[] c, int p, float beta, FloatVector v0, FloatVector v1, FloatVector v2) {
        if (beta == 0) {
            v0.intoArray(c, p);
            v1.intoArray(c, p + L);
            v2.intoArray(c, p + 2 * L);
        } else if (beta == 1) {
            FloatVector.fromArray(S, c, p).add(v0).intoArray(c, p);
            FloatVector.fromArray(S, c, p + L).add(v1).intoArray(c, p + L);
            FloatVector.fromArray(S, c, p + 2 * L).add(v2).intoArray(c, p + 2 * L);
        } else {
            FloatVector vb = FloatVector.broadcast(S, beta);
            FloatVector.fromArray(S, c, p).fma(vb, v0).intoArray(c, p);
            FloatVector.fromArray(S, c, p + L).fma(vb, v1).intoArray(c, p + L);
            FloatVector.fromArray(S, c, p + 2 * L).fma(vb, v2).intoArray(c, p + 2 * L);
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
