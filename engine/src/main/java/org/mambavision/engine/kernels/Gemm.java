package org.mambavision.engine.kernels;

import java.util.function.IntConsumer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.SystemProperty;

/**
 * Single-precision matrix multiply: C = op(A) * op(B) + beta * C, with op(A) of shape M x K and
 * op(B) of shape K x N, row-major with leading dimensions lda, ldb, ldc.
 * transA: A is stored K x M (op(A) = A^T); transB: B is stored N x K.
 * beta == 0 means C is overwritten and never read (NaNs in C do not propagate).
 *
 * <p>Layout of the fast path (GotoBLAS/BLIS style):
 * <ul>
 *   <li>C is cut into tiles of at most {@link #TM_MAX} x {@link #NC_MAX} (see {@link #tiles}); each tile
 *       is one task of {@link Parallel#forEach}. A task owns its tile for the whole K loop, so every
 *       element of C is computed by one thread with a fixed K order, and the arithmetic per element does
 *       not depend on the tiling: results are bitwise identical for any thread count.</li>
 *   <li>For each K block of {@link #KC}, the task packs its op(B) columns into micro-panels of
 *       {@link #NR} columns ([k][NR] order), zero-padded at the edge. op(A) is read in place, {@link #MR}
 *       rows at a time, through a (k, row) stride pair (packing them would be memory-bound work of its own,
 *       amortised over only N / NR column panels: N = 32 in attention, 192 in flat_tiny); only a last panel
 *       of fewer than MR rows is packed ([k][MR], zero-padded). Buffers are per thread and reused. The four transpose
 *       cases differ only in the packing (contiguous copies, or 16 x 16 in-register transposes) and A's
 *       strides, never in the micro-kernel's arithmetic.</li>
 *   <li>The micro-kernel keeps an MR x NR block of C (8 rows x 3 vectors) in registers and does one
 *       broadcast-FMA per accumulator per k; a partial block goes through scratch and is merged: a row
 *       edge as a full block, a column edge as two- and one-vector strips.</li>
 *   <li>Problems under {@link #PARALLEL_FLOPS} run on the calling thread.</li>
 * </ul>
 * The cache block sizes KC, MC and NC can be set for another CPU (see {@link SystemProperty}).
 */
public final class Gemm {
    static { JitInlining.install(); } // vector helpers inlined by C2, see there
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
    static final int KC = SystemProperty.GEMM_KC.intValue(192);
    /** Rows of op(A) packed at a time (MC x KC floats stay in L2). */
    static final int MC = SystemProperty.GEMM_MC.intValue(240);
    /** Largest tile of C per task: TM_MAX rows (several MC blocks sharing one packed B block) x NC_MAX columns. */
    static final int TM_MAX = 4 * MC;
    static final int NC_MAX = roundUp(SystemProperty.GEMM_NC.intValue(576), NR);
    /** Below this many flops the threads cost more than they save. */
    private static final long PARALLEL_FLOPS = 1L << 22;
    /** ... or B has this many floats (1 MiB). */
    private static final long PARALLEL_B_FLOATS = 1L << 18;
    /** Split K into chunks when K is at least this and C is small (see {@link #kChunks}). */
    private static final int SPLIT_K_MIN = 2048;
    private static final int SPLIT_K_MAX_C = 1 << 18;
    /**
     * Largest C tile of the split-K path, in floats (512 KB): a 192 x 576 weight gradient stays one tile per
     * chunk, so each B block is packed once (96-row tiles pack it twice: 250 against 305 GFLOP/s measured).
     */
    private static final int SPLIT_K_TILE_C = 128 * 1024;

    /** Per-thread packing buffers, reused across calls. */
    private static final class Workspace {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC_MAX];
        /** An edge tile's register block (MR x NR) or strip (MR x L) before it is merged into C. */
        final float[] edge = new float[MR * NR];
        /** Densely transposed lines of a B panel before they are spread to its width. */
        final float[] lines = new float[KC * 8];
    }

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);
    /** Per-caller partial sums of the split-K path, grown on demand. */
    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    private Gemm() {}

    public static void sgemm(boolean transA, boolean transB, int M, int N, int K,
                             float[] A, int offA, int lda, float[] B, int offB, int ldb,
                             float beta, float[] C, int offC, int ldc) {
        run(transA, transB, M, N, K, A, offA, lda, B, null, offB, ldb, beta, null, C, offC, ldc, null, null);
    }

    /**
     * C = op(A) op(B) + bias, the bias written into each micro-tile just before the kernel accumulates
     * onto it, instead of in a pass over C of its own: {@code bias[bias.offset() + j]} to column j, or
     * {@code bias[bias.offset() + i]} to row i when {@code bias.perRow()}. The sum is rounded once, as
     * C = bias followed by {@code sgemm} with beta 1 would be. A null bias means C = op(A) op(B).
     */
    public static void sgemmBias(boolean transA, boolean transB, int M, int N, int K,
                                 float[] A, int offA, int lda, float[] B, int offB, int ldb,
                                 Bias bias, float[] C, int offC, int ldc) {
        run(transA, transB, M, N, K, A, offA, lda, B, null, offB, ldb, 0f, bias, C, offC, ldc, null, null);
    }

    /**
     * C = op(A) op(B) + beta C (+ bias, which may be null) where B is a set of gathered lines: without
     * transB, row k of op(B) is {@code B[bRows[k]] .. B[bRows[k] + N - 1]}; with transB, column j of
     * op(B) is {@code B[bRows[j]] .. B[bRows[j] + K - 1]}. A convolution with stride 1 is such a
     * product over a zero-padded input (each line a shifted view of one input channel, see
     * DirectConv), so no im2col matrix is built: the lines are read straight into the packed panels.
     */
    public static void sgemmGatheredB(boolean transA, boolean transB, int M, int N, int K, float[] A, int offA, int lda,
                                      float[] B, int[] bRows, float beta, Bias bias, float[] C, int offC, int ldc) {
        if (bRows.length < (transB ? N : K)) {
            throw new IllegalArgumentException("sgemmGatheredB: " + bRows.length + " line offsets for " + (transB ? "N " + N : "K " + K));
        }
        run(transA, transB, M, N, K, A, offA, lda, B, bRows, 0, 0, beta, bias, C, offC, ldc, null, null);
    }

    /**
     * op(B) packed once into the panels the kernel reads (K x N, blocks of KC rows, NR-column panels), for
     * a B used by many products: a layer's weights at inference, where packing them at every call costs as
     * much as the product itself for a few tokens (MambaVision-T at batch 1). Packing is a copy, so a product
     * with a packed B gives the same bits as one with B itself. Callers own freshness: a packed B does not see later writes to B.
     */
    public static final class PackedB {
        final int N, K, nPad;
        final float[] data;
        final boolean transB;
        final float[] source;
        final int offB, ldb;

        private PackedB(boolean transB, int N, int K, float[] B, int offB, int ldb) {
            this.N = N;
            this.K = K;
            this.nPad = roundUp(Math.max(N, 1), NR);
            this.data = new float[K * nPad];
            this.transB = transB;
            this.source = B;
            this.offB = offB;
            this.ldb = ldb;
            int bK = transB ? 1 : ldb, bJ = transB ? ldb : 1;
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                for (int j = 0; j < N; j += NR) {
                    packPanel(B, offB + k0 * bK + j * bJ, bK, bJ, kc, Math.min(NR, N - j), NR, data, k0 * nPad + j * kc);
                }
            }
        }

        public int n() { return N; }

        public int k() { return K; }
    }

    /** Packs op(B) (K x N; B is N x K when transB) for {@link #sgemmPackedB}. */
    public static PackedB packB(boolean transB, int N, int K, float[] B, int offB, int ldb) {
        if (N <= 0 || K <= 0) throw new IllegalArgumentException("Gemm.packB: empty B " + K + "x" + N);
        return new PackedB(transB, N, K, B, offB, ldb);
    }

    /** C = op(A) B + bias (null for none) with a packed B: the same result as {@link #sgemmBias} with B's source. */
    public static void sgemmPackedB(boolean transA, int M, float[] A, int offA, int lda, PackedB b, Bias bias,
                                    float[] C, int offC, int ldc) {
        sgemmPackedB(transA, M, A, offA, lda, b, bias, C, offC, ldc, null);
    }

    /** C = op(A) B + beta C with a packed B: the same bits as {@link #sgemm} with B's source. */
    public static void sgemmPackedB(boolean transA, int M, float[] A, int offA, int lda, PackedB b, float beta,
                                    float[] C, int offC, int ldc) {
        run(transA, b.transB, M, b.N, b.K, A, offA, lda, b.source, null, b.offB, b.ldb, beta, null, C, offC, ldc, b, null);
    }

    /**
     * Applied to each finished part of C (rows x cols at C[offset], row stride ldc), once its sum is complete:
     * an activation fused into the product while the micro-tile is still in L1.
     */
    @FunctionalInterface
    public interface Epilogue {
        void apply(float[] C, int offset, int ldc, int rows, int cols);
    }

    /** {@link #sgemmPackedB} followed by the epilogue on every part of C. */
    public static void sgemmPackedB(boolean transA, int M, float[] A, int offA, int lda, PackedB b, Bias bias,
                                    float[] C, int offC, int ldc, Epilogue epilogue) {
        run(transA, b.transB, M, b.N, b.K, A, offA, lda, b.source, null, b.offB, b.ldb, 0f, bias, C, offC, ldc, b, epilogue);
    }

    /** {@link #sgemmBias} followed by the epilogue on every part of C. */
    public static void sgemmBias(boolean transA, boolean transB, int M, int N, int K,
                                 float[] A, int offA, int lda, float[] B, int offB, int ldb,
                                 Bias bias, float[] C, int offC, int ldc, Epilogue epilogue) {
        run(transA, transB, M, N, K, A, offA, lda, B, null, offB, ldb, 0f, bias, C, offC, ldc, null, epilogue);
    }

    /** A bias vector for {@link #sgemmBias}: one value per column of C, or per row when perRow. */
    public record Bias(float[] values, int offset, boolean perRow) {
        public Bias {
            if (values == null) throw new IllegalArgumentException("Gemm.Bias: values is null");
        }

        /** Sets the full MR x NR micro-tile at rows i.., columns j.. (global indices) of C to the bias. */
        void fill(float[] C, int c, int ldc, int i, int j) {
            if (perRow) {
                for (int r = 0; r < MR; r++) {
                    int o = c + r * ldc;
                    FloatVector b = FloatVector.broadcast(S, values[offset + i + r]);
                    for (int x = 0; x < NR; x += L) b.intoArray(C, o + x);
                }
            } else {
                // The tile's bias vectors loaded once and stored to each row (an arraycopy call per row measured
                // 1.5% of a flat_tiny training step, whose products have K = 192).
                FloatVector b0 = FloatVector.fromArray(S, values, offset + j), b1 = FloatVector.fromArray(S, values, offset + j + L);
                FloatVector b2 = FloatVector.fromArray(S, values, offset + j + 2 * L);
                for (int r = 0; r < MR; r++) {
                    int o = c + r * ldc;
                    b0.intoArray(C, o);
                    b1.intoArray(C, o + L);
                    b2.intoArray(C, o + 2 * L);
                }
            }
        }

        /** Adds the bias to rows [i, i + rows) x columns [j, j + cols) of C (global indices). */
        void addTo(float[] C, int c, int ldc, int i, int rows, int j, int cols) {
            // Loops written out (no helper calls): this runs once per micro-tile, mostly on 8 x 48 floats.
            int full = cols - cols % L;
            for (int r = 0; r < rows; r++) {
                int o = c + r * ldc;
                if (perRow) {
                    float b = values[offset + i + r];
                    for (int x = 0; x < full; x += L) FloatVector.fromArray(S, C, o + x).add(b).intoArray(C, o + x);
                    for (int x = full; x < cols; x++) C[o + x] += b;
                } else {
                    int bo = offset + j;
                    for (int x = 0; x < full; x += L) {
                        FloatVector.fromArray(S, C, o + x).add(FloatVector.fromArray(S, values, bo + x)).intoArray(C, o + x);
                    }
                    for (int x = full; x < cols; x++) C[o + x] += values[bo + x];
                }
            }
        }
    }

    /**
     * The common driver. With {@code bRows} non-null, B is gathered and ldb unused: element (k, j) of
     * op(B) is B[bRows[offB + k] + j] (offB indexes bRows), or B[bRows[j] + offB + k] with transB.
     */
    private static void run(boolean transA, boolean transB, int M, int N, int K,
                            float[] A, int offA, int lda, float[] B, int[] bRows, int offB, int ldb,
                            float beta, Bias bias, float[] C, int offC, int ldc, PackedB packed, Epilogue epilogue) {
        if (M < 0 || N < 0 || K < 0) throw new IllegalArgumentException("sgemm: negative size " + M + "x" + N + "x" + K);
        if (M == 0 || N == 0) return;
        if (K == 0) {
            scale(M, N, beta, C, offC, ldc);
            if (bias != null) bias.addTo(C, offC, ldc, 0, M, 0, N);
            if (epilogue != null) epilogue.apply(C, offC, ldc, M, N);
            return;
        }
        // a product of few rows is bound by reading B: two threads read it faster than one
        int threads = 2L * M * N * K < PARALLEL_FLOPS && (long) N * K < PARALLEL_B_FLOATS ? 1 : Parallel.available();
        int chunks = kChunks(M, N, K);
        if (chunks > 1) {
            splitK(chunks, transA, transB, M, N, K, A, offA, lda, B, bRows, offB, ldb, beta, bias, C, offC, ldc, threads, packed, epilogue);
            return;
        }
        int[] tiles = tiles(M, N, threads);
        final int tileM = tiles[0], tileN = tiles[1], nTilesN = ceilDiv(N, tileN), nTiles = ceilDiv(M, tileM) * nTilesN;
        IntConsumer task = t -> {
            int i0 = (t / nTilesN) * tileM, j0 = (t % nTilesN) * tileN;
            tile(transA, transB, i0, Math.min(tileM, M - i0), j0, Math.min(tileN, N - j0), K,
                    A, offA, lda, B, bRows, offB, ldb, beta, bias, C, offC, ldc, packed, 0, epilogue);
        };
        runTasks(threads, nTiles, task);
    }

    /** Tasks 0 .. n-1 on the calling thread, or spread over the pool. */
    private static void runTasks(int threads, int n, IntConsumer task) {
        if (threads == 1) {
            for (int t = 0; t < n; t++) task.accept(t);
        } else {
            Parallel.forEach(n, task);
        }
    }

    /**
     * Task tile {rows, cols} of C. Tiles start as large as the packed-B buffer and the re-use of a
     * packed B block allow, are split (along the side whose split re-packs less) until there are two
     * per thread, and the tile count is rounded to a multiple of the thread count for balance.
     */
    static int[] tiles(int M, int N, int threads) {
        int tm = roundUp(ceilDiv(M, ceilDiv(M, TM_MAX)), MR), tn = roundUp(ceilDiv(N, ceilDiv(N, NC_MAX)), NR);
        if (threads > 1) {
            while (ceilDiv(M, tm) * ceilDiv(N, tn) < 2 * threads) {
                // Splitting M re-packs B once more per tile and vice versa: split the larger side.
                // Rounding up to the register block can undo a split; stop when nothing shrinks.
                int splitM = tm > MR ? roundUp(ceilDiv(M, ceilDiv(M, tm) + 1), MR) : tm;
                int splitN = tn > NR ? roundUp(ceilDiv(N, ceilDiv(N, tn) + 1), NR) : tn;
                if (tm >= tn && splitM < tm) tm = splitM;
                else if (splitN < tn) tn = splitN;
                else if (splitM < tm) tm = splitM;
                else break;
            }
            int nN = ceilDiv(N, tn), nM = ceilDiv(M, tm);
            if ((nM * nN) % threads != 0 && tm > 4 * MR) {
                int want = ceilDiv(nM * nN, threads) * threads;
                int nM2 = ceilDiv(want, nN), tm2 = roundUp(ceilDiv(M, nM2), MR);
                if ((ceilDiv(M, tm2) * nN) % threads == 0) tm = tm2;
            }
        }
        return new int[] {tm, tn};
    }

    /**
     * Number of K chunks for a small C with a long K (weight gradients: out x in over batch x tokens).
     * Such a C has too few tiles to keep the threads busy and balanced, so each chunk of K is a task of
     * its own and the partial products are summed afterwards. The chunking depends only on the shape,
     * never on the thread count, and the partials are added in chunk order: results stay bitwise
     * identical for any thread count (but differ in rounding from the unsplit order).
     */
    static int kChunks(int M, int N, int K) {
        if (K < SPLIT_K_MIN || (long) M * N > SPLIT_K_MAX_C) return 1;
        return 4 * Math.max(1, Math.round(K / 8192f));
    }

    /**
     * C = beta C + sum over K chunks: chunk 0 goes straight into C, the others into partials added in order.
     * Chunks are whole KC blocks, so that a packed B is read where it lies (and its source is never re-packed).
     */
    private static void splitK(int chunks, boolean transA, boolean transB, int M, int N, int K,
                               float[] A, int offA, int lda, float[] B, int[] bRows, int offB, int ldb,
                               float beta, Bias bias, float[] C, int offC, int ldc, int threads, PackedB packed, Epilogue epilogue) {
        int blocks = ceilDiv(K, KC), nChunks = Math.min(chunks, blocks), mn = M * N;
        float[][] holder = PARTIALS.get();
        if (holder[0].length < (nChunks - 1) * mn) holder[0] = new float[(nChunks - 1) * mn];
        float[] part = holder[0];
        // Chunks are the parallelism: tiles stay large (each packs its A and B panels once per chunk),
        // but a tile's C must share L2 with the packed blocks.
        int[] tiles = tiles(M, N, 1);
        while ((long) tiles[0] * tiles[1] > SPLIT_K_TILE_C && tiles[0] > MR) tiles[0] = roundUp(ceilDiv(tiles[0], 2), MR);
        final int tileM = tiles[0], tileN = tiles[1], nTilesN = ceilDiv(N, tileN), nTiles = ceilDiv(M, tileM) * nTilesN;
        int aK = transA ? lda : 1, bK = transB || bRows != null ? 1 : ldb;
        IntConsumer task = t -> {
            int chunk = t / nTiles, tt = t % nTiles;
            int i0 = (tt / nTilesN) * tileM, j0 = (tt % nTilesN) * tileN;
            int k0 = (int) ((long) blocks * chunk / nChunks) * KC, k1 = Math.min(K, (int) ((long) blocks * (chunk + 1) / nChunks) * KC);
            int mc = Math.min(tileM, M - i0), nc = Math.min(tileN, N - j0), kLen = k1 - k0;
            if (chunk == 0) {
                tile(transA, transB, i0, mc, j0, nc, kLen, A, offA, lda, B, bRows, offB, ldb, beta, bias, C, offC, ldc, packed, 0, null);
            } else {
                tile(transA, transB, i0, mc, j0, nc, kLen, A, offA + k0 * aK, lda, B, bRows, offB + k0 * bK, ldb,
                        0f, null, part, (chunk - 1) * mn, N, packed, k0, null);
            }
        };
        runTasks(threads, nChunks * nTiles, task);
        Parallel.forRange(M, Math.max(1, 16384 / Math.max(1, N)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int c = 1; c < nChunks; c++) VecMath.addInto(N, part, (c - 1) * mn + r * N, C, offC + r * ldc);
                if (epilogue != null) epilogue.apply(C, offC + r * ldc, ldc, 1, N);
            }
        });
    }

    /** Keeps {@link #touchLines}' sums observable, so that its loads are not removed. */
    private static volatile float touched;

    /**
     * Reads one float per cache line of b[from, to): a packed weight block, fetched from memory before the kernels use
     * it. A kernel fetching its B panel itself waits on each line in turn, and at one image's 49 tokens it spends as
     * long waiting as computing; these loads are independent, so the core has many in flight at once (Java has no
     * prefetch instruction). The kernels then find the block in L2. A 49x2560x640 product with a packed B not in cache:
     * 1.06 ms against 1.24 without (best of 20); with B in cache the reads cost 0.07 ms. Callers use it for weights
     * that are read once per call from memory, inside their parallel tasks (on the caller alone it would run serially).
     */
    public static void touchLines(float[] b, int from, int to) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int x = from;
        for (; x + 48 < to; x += 64) {
            s0 += b[x];
            s1 += b[x + 16];
            s2 += b[x + 32];
            s3 += b[x + 48];
        }
        for (; x < to; x += 16) s0 += b[x];
        float s = s0 + s1 + s2 + s3;
        if (s == Float.MIN_VALUE) touched = s; // practically never true; the compiler cannot know that
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

    /**
     * Computes the mc x nc tile of C at (i0, j0) over K (A and B offset to the range's start), block by block;
     * a packed B is read from row {@code packedK0} on (a multiple of KC).
     */
    private static void tile(boolean transA, boolean transB, int i0, int mc, int j0, int nc, int K,
                             float[] A, int offA, int lda, float[] B, int[] bRows, int offB, int ldb,
                             float beta, Bias bias, float[] C, int offC, int ldc, PackedB packed, int packedK0, Epilogue epilogue) {
        Workspace w = WORKSPACE.get();
        float[] ap = w.a, bp = packed != null ? packed.data : w.b;
        // Element (k, i) of op(A) sits at A[aBase + k*aK + i*aI]; likewise (k, j) of op(B).
        int aK = transA ? lda : 1, aI = transA ? 1 : lda;
        int bK = transB || bRows != null ? 1 : ldb, bJ = transB ? ldb : 1;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int kc = Math.min(KC, K - k0);
            float blockBeta = k0 == 0 ? beta : 1f;
            Bias blockBias = k0 == 0 ? bias : null;
            Epilogue blockEpilogue = k0 + kc >= K ? epilogue : null;
            // Panel (k0, j) of a packed B sits at k0 * nPad + (j0 + j) * kc (tiles start on a panel boundary).
            int bBase = packed != null ? (packedK0 + k0) * packed.nPad + j0 * kc : 0;
            for (int j = 0; j < nc && packed == null; j += NR) {
                if (bRows != null && transB) packGatheredT(B, bRows, offB + k0, j0 + j, kc, Math.min(NR, nc - j), bp, j * kc);
                else if (bRows != null) packGathered(B, bRows, offB + k0, j0 + j, kc, Math.min(NR, nc - j), bp, j * kc);
                else packPanel(B, offB + k0 * bK + (j0 + j) * bJ, bK, bJ, kc, Math.min(NR, nc - j), NR, bp, j * kc);
            }
            if (packed != null) touchLines(bp, bBase, bBase + kc * roundUp(nc, NR));
            // The packed B block is reused by every MC-row block of the tile; the A block stays in L2.
            for (int ib = 0; ib < mc; ib += MC) {
                int mb = Math.min(MC, mc - ib);
                // Panels read in place need no copy: only a last panel of fewer than MR rows is packed (zero-padded).
                for (int i = mb - mb % MR; i < mb; i += MR) {
                    packPanel(A, offA + k0 * aK + (i0 + ib + i) * aI, aK, aI, kc, Math.min(MR, mb - i), MR, ap, i * kc);
                }
                for (int i = 0; i < mb; i += MR) {
                    int rows = Math.min(MR, mb - i);
                    // The A operand of this panel: read in place (element (k, r) at A[pa + k*ak + r*ar]) or packed.
                    boolean direct = rows == MR;
                    float[] av = direct ? A : ap;
                    int pa = direct ? offA + k0 * aK + (i0 + ib + i) * aI : i * kc, ak = direct ? aK : MR, ar = direct ? aI : 1;
                    for (int j = 0; j < nc; j += NR) {
                        int cols = Math.min(NR, nc - j);
                        int c = offC + (i0 + ib + i) * ldc + j0 + j;
                        if (rows == MR && cols == NR) {
                            float kernelBeta = blockBeta;
                            if (blockBias != null) {
                                // Bias written first, then accumulated onto (beta 1): C = bias + sum in one
                                // rounding, and no reload of vectors just stored (store-forwarding stalls).
                                blockBias.fill(C, c, ldc, i0 + ib + i, j0 + j);
                                kernelBeta = 1f;
                            }
                            kernel(kc, av, pa, ak, ar, bp, bBase + j * kc, C, c, ldc, kernelBeta);
                            if (blockEpilogue != null) blockEpilogue.apply(C, c, ldc, MR, NR);
                        } else {
                            if (cols == NR) {
                                // A row edge: the full register block (its loads serve three vectors), rows kept;
                                // one or two rows (a single image's logits, 49 tokens) a row at a time, a third of its time
                                if (rows <= 2) {
                                    for (int r = 0; r < rows; r++) kernelRow(kc, av, pa + r * ar, ak, bp, bBase + j * kc, w.edge, r * NR);
                                } else {
                                    kernel(kc, av, pa, ak, ar, bp, bBase + j * kc, w.edge, 0, NR, 0f);
                                }
                                mergeEdge(w.edge, NR, rows, cols, C, c, ldc, blockBeta);
                            } else {
                                // A column edge: 32- and 16-column strips, computing only the vectors that exist;
                                // whole strips straight into C (attention's head_dim 32 is one pair), the rest via scratch.
                                for (int x = 0; x < cols; x += L) {
                                    if (rows == MR && x + 2 * L <= cols) {
                                        kernelPair(kc, av, pa, ak, ar, bp, bBase + j * kc + x, C, c + x, ldc, blockBeta);
                                        x += L;
                                    } else if (rows == MR && x + L <= cols) {
                                        kernelStrip(kc, av, pa, ak, ar, bp, bBase + j * kc + x, C, c + x, ldc, blockBeta);
                                    } else {
                                        kernelStrip(kc, av, pa, ak, ar, bp, bBase + j * kc + x, w.edge, 0, L, 0f);
                                        mergeEdge(w.edge, L, rows, Math.min(L, cols - x), C, c + x, ldc, blockBeta);
                                    }
                                }
                            }
                            if (blockBias != null) blockBias.addTo(C, c, ldc, i0 + ib + i, rows, j0 + j, cols);
                            if (blockEpilogue != null) blockEpilogue.apply(C, c, ldc, rows, cols);
                        }
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
        } else if (count == width && strideK == 1 && width % Transpose16.SIZE == 0 && Transpose16.AVAILABLE) {
            // B panels of a transposed operand (weights stored out x in): 16 x 16 register transposes,
            // whole vectors stored at the panel's width.
            int k16 = kc - kc % Transpose16.SIZE;
            for (int x = 0; x < width; x += Transpose16.SIZE) {
                for (int k = 0; k < k16; k += Transpose16.SIZE) {
                    Transpose16.tile(src, s + x * strideX + k, strideX, dst, d + k * width + x, width);
                }
            }
            for (int k = k16; k < kc; k++) {
                for (int x = 0; x < width; x++) dst[d + k * width + x] = src[s + k + x * strideX];
            }
        } else if (count == width && strideK == 1 && width % 8 == 0) {
            for (int x = 0; x < width; x += 8) transpose8(src, s + x * strideX, strideX, kc, dst, d + x, width);
        } else if (strideX == 1) {
            // A last, narrower panel of contiguous lines (attention's V with head_dim 32 or 40): row copies.
            for (int k = 0; k < kc; k++) {
                int o = d + k * width;
                System.arraycopy(src, s + k * strideK, dst, o, count);
                java.util.Arrays.fill(dst, o + count, o + width, 0f);
            }
        } else {
            for (int k = 0; k < kc; k++) {
                int o = d + k * width;
                for (int x = 0; x < count; x++) dst[o + x] = src[s + k * strideK + x * strideX];
                for (int x = count; x < width; x++) dst[o + x] = 0f;
            }
        }
    }

    /**
     * A B micro-panel of gathered lines stored along k (op(B) = the transpose of the gathered rows):
     * dst[d + k*NR + x] = src[rows[j + x] + off + k], zero-filled past count.
     */
    private static void packGatheredT(float[] src, int[] rows, int off, int j, int kc, int count, float[] dst, int d) {
        if (count == NR) {
            for (int x = 0; x < NR; x += 8) {
                int r = j + x;
                transpose8(src, rows[r] + off, rows[r + 1] + off, rows[r + 2] + off, rows[r + 3] + off,
                        rows[r + 4] + off, rows[r + 5] + off, rows[r + 6] + off, rows[r + 7] + off, kc, dst, d + x, NR);
            }
        } else {
            for (int k = 0; k < kc; k++) {
                int o = d + k * NR;
                for (int x = 0; x < count; x++) dst[o + x] = src[rows[j + x] + off + k];
                for (int x = count; x < NR; x++) dst[o + x] = 0f;
            }
        }
    }

    /** A B micro-panel of gathered rows: dst[d + k*NR + x] = src[rows[r0 + k] + j + x], zero-filled past count. */
    private static void packGathered(float[] src, int[] rows, int r0, int j, int kc, int count, float[] dst, int d) {
        if (count == NR && NR == 3 * L) {
            for (int k = 0; k < kc; k++) {
                int si = rows[r0 + k] + j, di = d + k * NR;
                FloatVector.fromArray(S, src, si).intoArray(dst, di);
                FloatVector.fromArray(S, src, si + L).intoArray(dst, di + L);
                FloatVector.fromArray(S, src, si + 2 * L).intoArray(dst, di + 2 * L);
            }
        } else {
            for (int k = 0; k < kc; k++) {
                int si = rows[r0 + k] + j, di = d + k * NR;
                System.arraycopy(src, si, dst, di, count);
                for (int x = count; x < NR; x++) dst[di + x] = 0f;
            }
        }
    }

    /** dst[d + k*width + x] = src[s + k*ld + x]: a panel whose lines are already contiguous. */
    private static void copyRows(float[] src, int s, int ld, int kc, int width, float[] dst, int d) {
        // One small method per case: a vector loop that shares a compile with the others has been seen
        // compiled with its loads and stores left as calls on boxed vectors (allocating at every row).
        if (width == MR && S8.length() == MR) copyRows8(src, s, ld, kc, dst, d);
        else if (width % L == 0) copyRowsVectors(src, s, ld, kc, width, dst, d);
        else for (int k = 0; k < kc; k++) System.arraycopy(src, s + k * ld, dst, d + k * width, width);
    }

    private static void copyRows8(float[] src, int s, int ld, int kc, float[] dst, int d) {
        for (int k = 0; k < kc; k++) FloatVector.fromArray(S8, src, s + k * ld).intoArray(dst, d + k * MR);
    }

    private static void copyRowsVectors(float[] src, int s, int ld, int kc, int width, float[] dst, int d) {
        for (int k = 0; k < kc; k++) {
            int si = s + k * ld, di = d + k * width;
            for (int x = 0; x < width; x += L) FloatVector.fromArray(S, src, si + x).intoArray(dst, di + x);
        }
    }

    /** dst[d + k*dstStride + r] = src[s + r*ld + k] for r < 8: eight rows, read along k, written interleaved. */
    private static void transpose8(float[] src, int s, int ld, int kc, float[] dst, int d, int dstStride) {
        transpose8(src, s, s + ld, s + 2 * ld, s + 3 * ld, s + 4 * ld, s + 5 * ld, s + 6 * ld, s + 7 * ld, kc, dst, d, dstStride);
    }

    /** dst[d + k*dstStride + r] = src[s_r + k] for r < 8: eight lines starting anywhere. */
    private static void transpose8(float[] src, int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7,
                                   int kc, float[] dst, int d, int dstStride) {
        int k = 0;
        if (L == 16 && dstStride == 8) {
            k = transposeDense(src, s0, s1, s2, s3, s4, s5, s6, s7, kc, dst, d);
        } else if (L == 16) {
            // Wider panels (gathered B lines, see packGatheredT): transposed densely into scratch, then copied a
            // line of 8 at a time.
            float[] t = WORKSPACE.get().lines;
            k = transposeDense(src, s0, s1, s2, s3, s4, s5, s6, s7, kc, t, 0);
            for (int kk = 0; kk < k; kk++) System.arraycopy(t, kk * 8, dst, d + kk * dstStride, 8);
        }
        for (; k < kc; k++) {
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

    /**
     * The 16-k steps of {@link #transpose8} into an 8-wide panel; returns the first k not done. Eight rows x
     * 16 k per step, transposed in registers by three rounds of two-vector permutes: each result vector t_i
     * holds k + 2i (lanes 0-7) and k + 2i + 1 (lanes 8-15) of the eight rows. Kept to this one job: a method
     * too large for C1's tier-3 compile (as one with strided masked stores as well was) is never compiled by
     * C2 either, and in C1 vector operations are plain calls on boxed vectors.
     */
    private static int transposeDense(float[] src, int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7,
                                      int kc, float[] dst, int d) {
        int k = 0;
        for (; k + 16 <= kc; k += 16) {
                FloatVector r0 = FloatVector.fromArray(S, src, s0 + k), r1 = FloatVector.fromArray(S, src, s1 + k);
                FloatVector r2 = FloatVector.fromArray(S, src, s2 + k), r3 = FloatVector.fromArray(S, src, s3 + k);
                FloatVector r4 = FloatVector.fromArray(S, src, s4 + k), r5 = FloatVector.fromArray(S, src, s5 + k);
                FloatVector r6 = FloatVector.fromArray(S, src, s6 + k), r7 = FloatVector.fromArray(S, src, s7 + k);
                FloatVector a0 = ZIP1_LO.selectFrom(r0, r1), a1 = ZIP1_HI.selectFrom(r0, r1);
                FloatVector a2 = ZIP1_LO.selectFrom(r2, r3), a3 = ZIP1_HI.selectFrom(r2, r3);
                FloatVector a4 = ZIP1_LO.selectFrom(r4, r5), a5 = ZIP1_HI.selectFrom(r4, r5);
                FloatVector a6 = ZIP1_LO.selectFrom(r6, r7), a7 = ZIP1_HI.selectFrom(r6, r7);
                FloatVector b0 = ZIP2_LO.selectFrom(a0, a2), b1 = ZIP2_HI.selectFrom(a0, a2);
                FloatVector b2 = ZIP2_LO.selectFrom(a1, a3), b3 = ZIP2_HI.selectFrom(a1, a3);
                FloatVector b4 = ZIP2_LO.selectFrom(a4, a6), b5 = ZIP2_HI.selectFrom(a4, a6);
                FloatVector b6 = ZIP2_LO.selectFrom(a5, a7), b7 = ZIP2_HI.selectFrom(a5, a7);
                FloatVector t0 = ZIP4_LO.selectFrom(b0, b4), t1 = ZIP4_HI.selectFrom(b0, b4);
                FloatVector t2 = ZIP4_LO.selectFrom(b1, b5), t3 = ZIP4_HI.selectFrom(b1, b5);
                FloatVector t4 = ZIP4_LO.selectFrom(b2, b6), t5 = ZIP4_HI.selectFrom(b2, b6);
                FloatVector t6 = ZIP4_LO.selectFrom(b3, b7), t7 = ZIP4_HI.selectFrom(b3, b7);
            // Stores written out: a helper taking a vector that C2 does not inline boxes its argument.
            int o = d + k * 8;
            t0.intoArray(dst, o); t1.intoArray(dst, o + 16); t2.intoArray(dst, o + 32); t3.intoArray(dst, o + 48);
            t4.intoArray(dst, o + 64); t5.intoArray(dst, o + 80); t6.intoArray(dst, o + 96); t7.intoArray(dst, o + 112);
        }
        return k;
    }

    /**
     * Index vectors for one round of an in-register transpose: pairs of source vectors (X, Y) whose
     * lanes hold blocks of {@code b} rows are merged into blocks of 2b rows; LO takes the first half of
     * the k range, HI the second. Index i < 16 selects X[i], i >= 16 selects Y[i - 16].
     */
    private static FloatVector zipIndex(int b, boolean high) {
        float[] idx = new float[L];
        for (int l = 0; l < L; l++) {
            int group = l / (2 * b), within = l % (2 * b);
            idx[l] = (within / b) * L + group * b + within % b + (high ? L / 2 : 0);
        }
        return FloatVector.fromArray(S, idx, 0);
    }

    private static final FloatVector ZIP1_LO = L == 16 ? zipIndex(1, false) : null, ZIP1_HI = L == 16 ? zipIndex(1, true) : null;
    private static final FloatVector ZIP2_LO = L == 16 ? zipIndex(2, false) : null, ZIP2_HI = L == 16 ? zipIndex(2, true) : null;
    private static final FloatVector ZIP4_LO = L == 16 ? zipIndex(4, false) : null, ZIP4_HI = L == 16 ? zipIndex(4, true) : null;

    /**
     * The MR x NR register block: C[c + r*ldc + x] = sum_k a[pa + k*ak + r*ar] * b[pb + k*NR + x] (+ beta*C),
     * A read in place (ak, ar = its strides) or from a packed panel (MR, 1). Written out for MR = 8 and NRV = 3
     * so that the 24 accumulators stay in registers.
     */
    private static void kernel(int kc, float[] a, int pa, int ak, int ar, float[] b, int pb, float[] c, int pc, int ldc, float beta) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z, c32 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
        int a1 = ar, a2 = 2 * ar, a3 = 3 * ar, a4 = 4 * ar, a5 = 5 * ar, a6 = 6 * ar, a7 = 7 * ar;
        int k = 0;
        // Two k steps per iteration, written out: half the loop overhead (index updates, bounds and loop checks) per
        // FMA. Each accumulator still sees its FMAs in k order, so the bits are those of a one-step loop.
        // bench kernels, five alternating rounds against a one-step loop: weight-gradient rows 326 vs 280, conv2d 316 vs
        // 283 GFLOP/s (medians).
        for (; k + 2 <= kc; k += 2) {
            int ia = pa + k * ak, ib = pb + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, ib);
            FloatVector b1 = FloatVector.fromArray(S, b, ib + L);
            FloatVector b2 = FloatVector.fromArray(S, b, ib + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ia]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[ia + a1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[ia + a2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[ia + a3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(S, a[ia + a4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(S, a[ia + a5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(S, a[ia + a6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(S, a[ia + a7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
            ia = ia + ak; ib = ib + NR;
            b0 = FloatVector.fromArray(S, b, ib);
            b1 = FloatVector.fromArray(S, b, ib + L);
            b2 = FloatVector.fromArray(S, b, ib + 2 * L);
                        x = FloatVector.broadcast(S, a[ia]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[ia + a1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[ia + a2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[ia + a3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(S, a[ia + a4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(S, a[ia + a5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(S, a[ia + a6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(S, a[ia + a7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
        }
        // The odd last k, the same step once more (a helper would take the accumulators as boxed vectors).
        for (; k < kc; k++) {
            int ia = pa + k * ak, ib = pb + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, ib);
            FloatVector b1 = FloatVector.fromArray(S, b, ib + L);
            FloatVector b2 = FloatVector.fromArray(S, b, ib + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ia]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[ia + a1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[ia + a2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[ia + a3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(S, a[ia + a4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(S, a[ia + a5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(S, a[ia + a6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(S, a[ia + a7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
        }
        // Stores are written out (no helper taking vectors) so that nothing is boxed: C2 does not
        // inline a helper into a method this large. beta == 1 goes through fma too: C*1 + acc is exact.
        int p0 = pc, p1 = p0 + ldc, p2 = p1 + ldc, p3 = p2 + ldc, p4 = p3 + ldc, p5 = p4 + ldc, p6 = p5 + ldc, p7 = p6 + ldc;
        if (beta != 0) {
            FloatVector vb = FloatVector.broadcast(S, beta);
            c00 = FloatVector.fromArray(S, c, p0).fma(vb, c00); c01 = FloatVector.fromArray(S, c, p0 + L).fma(vb, c01); c02 = FloatVector.fromArray(S, c, p0 + 2 * L).fma(vb, c02);
            c10 = FloatVector.fromArray(S, c, p1).fma(vb, c10); c11 = FloatVector.fromArray(S, c, p1 + L).fma(vb, c11); c12 = FloatVector.fromArray(S, c, p1 + 2 * L).fma(vb, c12);
            c20 = FloatVector.fromArray(S, c, p2).fma(vb, c20); c21 = FloatVector.fromArray(S, c, p2 + L).fma(vb, c21); c22 = FloatVector.fromArray(S, c, p2 + 2 * L).fma(vb, c22);
            c30 = FloatVector.fromArray(S, c, p3).fma(vb, c30); c31 = FloatVector.fromArray(S, c, p3 + L).fma(vb, c31); c32 = FloatVector.fromArray(S, c, p3 + 2 * L).fma(vb, c32);
            c40 = FloatVector.fromArray(S, c, p4).fma(vb, c40); c41 = FloatVector.fromArray(S, c, p4 + L).fma(vb, c41); c42 = FloatVector.fromArray(S, c, p4 + 2 * L).fma(vb, c42);
            c50 = FloatVector.fromArray(S, c, p5).fma(vb, c50); c51 = FloatVector.fromArray(S, c, p5 + L).fma(vb, c51); c52 = FloatVector.fromArray(S, c, p5 + 2 * L).fma(vb, c52);
            c60 = FloatVector.fromArray(S, c, p6).fma(vb, c60); c61 = FloatVector.fromArray(S, c, p6 + L).fma(vb, c61); c62 = FloatVector.fromArray(S, c, p6 + 2 * L).fma(vb, c62);
            c70 = FloatVector.fromArray(S, c, p7).fma(vb, c70); c71 = FloatVector.fromArray(S, c, p7 + L).fma(vb, c71); c72 = FloatVector.fromArray(S, c, p7 + 2 * L).fma(vb, c72);
        }
        c00.intoArray(c, p0); c01.intoArray(c, p0 + L); c02.intoArray(c, p0 + 2 * L);
        c10.intoArray(c, p1); c11.intoArray(c, p1 + L); c12.intoArray(c, p1 + 2 * L);
        c20.intoArray(c, p2); c21.intoArray(c, p2 + L); c22.intoArray(c, p2 + 2 * L);
        c30.intoArray(c, p3); c31.intoArray(c, p3 + L); c32.intoArray(c, p3 + 2 * L);
        c40.intoArray(c, p4); c41.intoArray(c, p4 + L); c42.intoArray(c, p4 + 2 * L);
        c50.intoArray(c, p5); c51.intoArray(c, p5 + L); c52.intoArray(c, p5 + 2 * L);
        c60.intoArray(c, p6); c61.intoArray(c, p6 + L); c62.intoArray(c, p6 + 2 * L);
        c70.intoArray(c, p7); c71.intoArray(c, p7 + L); c72.intoArray(c, p7 + 2 * L);
    }

    /**
     * One strip of an edge tile, {@code cols} <= L columns wide: C[c + r*ldc + x] = sum_k a[pa + k*ak + r*ar] *
     * b[pb + k*NR + x] (+ beta*C) for r < rows, x < cols, with the kernel's arithmetic. Eight accumulators
     * (a 4-column edge costs a sixth of a full register block), stored whole into {@code scratch} (8 x L)
     * and merged into C by {@link #mergeEdge}. Kept free of masks and branches: C1 runs out of virtual
     * registers on a masked version, and a method C1 cannot compile may never reach C2.
     */
    private static void kernelStrip(int kc, float[] a, int pa, int ak, int ar, float[] b, int pb, float[] c, int pc, int ldc, float beta) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z, c6 = z, c7 = z;
        int a1 = ar, a2 = 2 * ar, a3 = 3 * ar, a4 = 4 * ar, a5 = 5 * ar, a6 = 6 * ar, a7 = 7 * ar;
        for (int k = 0; k < kc; k++) {
            int ia = pa + k * ak;
            FloatVector bv = FloatVector.fromArray(S, b, pb + k * NR);
            c0 = FloatVector.broadcast(S, a[ia]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[ia + a1]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[ia + a2]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[ia + a3]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[ia + a4]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[ia + a5]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[ia + a6]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[ia + a7]).fma(bv, c7);
        }
        int p0 = pc, p1 = p0 + ldc, p2 = p1 + ldc, p3 = p2 + ldc, p4 = p3 + ldc, p5 = p4 + ldc, p6 = p5 + ldc, p7 = p6 + ldc;
        if (beta != 0) { // as the full kernel: C * beta + acc in one rounding
            FloatVector vb = FloatVector.broadcast(S, beta);
            c0 = FloatVector.fromArray(S, c, p0).fma(vb, c0); c1 = FloatVector.fromArray(S, c, p1).fma(vb, c1);
            c2 = FloatVector.fromArray(S, c, p2).fma(vb, c2); c3 = FloatVector.fromArray(S, c, p3).fma(vb, c3);
            c4 = FloatVector.fromArray(S, c, p4).fma(vb, c4); c5 = FloatVector.fromArray(S, c, p5).fma(vb, c5);
            c6 = FloatVector.fromArray(S, c, p6).fma(vb, c6); c7 = FloatVector.fromArray(S, c, p7).fma(vb, c7);
        }
        c0.intoArray(c, p0); c1.intoArray(c, p1); c2.intoArray(c, p2); c3.intoArray(c, p3);
        c4.intoArray(c, p4); c5.intoArray(c, p5); c6.intoArray(c, p6); c7.intoArray(c, p7);
    }

    /**
     * One row of the register block, into c[pc + x] for x < NR (beta 0): each column's FMAs in k order, as in
     * {@link #kernel}, so a row computed here has the bits it has there.
     */
    private static void kernelRow(int kc, float[] a, int pa, int ak, float[] b, int pb, float[] c, int pc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0;
        for (int k = 0; k < kc; k++) {
            int ib = pb + k * NR;
            FloatVector x = FloatVector.broadcast(S, a[pa + k * ak]);
            c0 = x.fma(FloatVector.fromArray(S, b, ib), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, ib + L), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, ib + 2 * L), c2);
        }
        c0.intoArray(c, pc); c1.intoArray(c, pc + L); c2.intoArray(c, pc + 2 * L);
    }

    /** Two strips at once: 8 rows x 2 vectors (16 accumulators), each broadcast of A serving both. */
    private static void kernelPair(int kc, float[] a, int pa, int ak, int ar, float[] b, int pb, float[] c, int pc, int ldc, float beta) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
        FloatVector c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
        int a1 = ar, a2 = 2 * ar, a3 = 3 * ar, a4 = 4 * ar, a5 = 5 * ar, a6 = 6 * ar, a7 = 7 * ar;
        for (int k = 0; k < kc; k++) {
            int ia = pa + k * ak, ib = pb + k * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, ib), b1 = FloatVector.fromArray(S, b, ib + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ia]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ia + a1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ia + a2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ia + a3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ia + a4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ia + a5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ia + a6]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ia + a7]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        int p0 = pc, p1 = p0 + ldc, p2 = p1 + ldc, p3 = p2 + ldc, p4 = p3 + ldc, p5 = p4 + ldc, p6 = p5 + ldc, p7 = p6 + ldc;
        if (beta != 0) {
            FloatVector vb = FloatVector.broadcast(S, beta);
            c00 = FloatVector.fromArray(S, c, p0).fma(vb, c00); c01 = FloatVector.fromArray(S, c, p0 + L).fma(vb, c01);
            c10 = FloatVector.fromArray(S, c, p1).fma(vb, c10); c11 = FloatVector.fromArray(S, c, p1 + L).fma(vb, c11);
            c20 = FloatVector.fromArray(S, c, p2).fma(vb, c20); c21 = FloatVector.fromArray(S, c, p2 + L).fma(vb, c21);
            c30 = FloatVector.fromArray(S, c, p3).fma(vb, c30); c31 = FloatVector.fromArray(S, c, p3 + L).fma(vb, c31);
            c40 = FloatVector.fromArray(S, c, p4).fma(vb, c40); c41 = FloatVector.fromArray(S, c, p4 + L).fma(vb, c41);
            c50 = FloatVector.fromArray(S, c, p5).fma(vb, c50); c51 = FloatVector.fromArray(S, c, p5 + L).fma(vb, c51);
            c60 = FloatVector.fromArray(S, c, p6).fma(vb, c60); c61 = FloatVector.fromArray(S, c, p6 + L).fma(vb, c61);
            c70 = FloatVector.fromArray(S, c, p7).fma(vb, c70); c71 = FloatVector.fromArray(S, c, p7 + L).fma(vb, c71);
        }
        c00.intoArray(c, p0); c01.intoArray(c, p0 + L); c10.intoArray(c, p1); c11.intoArray(c, p1 + L);
        c20.intoArray(c, p2); c21.intoArray(c, p2 + L); c30.intoArray(c, p3); c31.intoArray(c, p3 + L);
        c40.intoArray(c, p4); c41.intoArray(c, p4 + L); c50.intoArray(c, p5); c51.intoArray(c, p5 + L);
        c60.intoArray(c, p6); c61.intoArray(c, p6 + L); c70.intoArray(c, p7); c71.intoArray(c, p7 + L);
    }

    /** C[c + r*ldc + x] = scratch[r*ld + x] (+ beta*C, as the kernel rounds it) for r < rows, x < cols. */
    private static void mergeEdge(float[] scratch, int ld, int rows, int cols, float[] C, int c, int ldc, float beta) {
        for (int r = 0; r < rows; r++) {
            int ci = c + r * ldc, si = r * ld;
            if (beta == 0) {
                System.arraycopy(scratch, si, C, ci, cols);
            } else {
                for (int x = 0; x < cols; x++) C[ci + x] = Math.fma(C[ci + x], beta, scratch[si + x]);
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static int roundUp(int a, int b) {
        return ceilDiv(a, b) * b;
    }
}
