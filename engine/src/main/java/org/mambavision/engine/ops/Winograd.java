package org.mambavision.engine.ops;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.kernels.VecMath;

/**
 * 3x3 convolutions with stride 1 and padding 1 (MambaVision's conv blocks, and the input gradient of any
 * such convolution) by Winograd's minimal filtering F(m x m, 3 x 3) (Lavin and Gray, 2016): the output is
 * cut into m x m tiles; each tile's (m+2) x (m+2) input patch d and each 3x3 kernel g are transformed,
 * V = B^T d B and U = G g G^T, and the tile is Y = A^T (sum over input channels of U . V) A. The sum over
 * channels is, for each of the (m+2)^2 transform points, one product U[p] (Cout x Cin) x V[p] (Cin x tiles),
 * so a tile costs (m+2)^2 multiply-adds per channel pair instead of 9 m^2: 2.25x fewer for m = 2, 4x fewer
 * for m = 4. The transforms are additions and small constant multiples, vectorized over
 * 16 neighbouring tiles of a tile row.
 *
 * <p>Rounding differs from the direct sum (the transforms add and subtract before the products); for
 * m = 4 the error is a few times float's rounding, well inside what the goldens allow (WinogradTest
 * measures it against a double-precision reference). Deterministic for a fixed thread count.
 *
 * <p>Layout: the input of one channel is first split into m column phases, phase r holding padded columns
 * m*u + r, so that the inputs a tile position needs across 16 tiles are one contiguous load. Transformed
 * inputs V are stored per point and channel as lines over the tiles of a group of images (image, tile row,
 * tile column), with a vector's slack at the end: a vector that runs past its tile row writes lanes the
 * next row overwrites, so lines are filled in order, one thread per channel. Maps of 16 or more on each side use
 * F(4x4), from 10 F(2x2), smaller ones the direct path (see {@link #transformFor}).
 */
final class Winograd {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Aim for products at least this wide: small maps are transformed several images at a time. */
    private static final int TARGET_TILES = 512;
    /** Largest transformed image (floats) this path takes on; see {@link #transformFor}. */
    static final long MAX_BUFFER_FLOATS = 1L << 25;

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[5][0]);
    private static final int V_BUF = 0, M_BUF = 1, PHASES = 2, POINTS = 3, PLANE = 4;

    private Winograd() {}

    /** Whether this path handles the geometry (and is switched on). */
    static boolean applies(ConvGeometry g) {
        return transformFor(g) != null;
    }

    /**
     * The transform for a geometry, or null for the direct path. The transforms work on 16 tiles of a tile
     * row at a time, so narrow maps waste lanes: measured at batch 32 (forward, ms, direct / F(4x4) / F(2x2)):
     * 56x56x80 68 / 35 / 45, 28x28x160 68 / 33 / 42, 16x16x64 4.3 / 3.6 / 3.7, 14x14x80 5.3 / 4.4 / 3.9,
     * 10x10x128 7.1 / 7.1 / 5.1; at 8x8x32 and 4x4x64 (batch 64) the direct path was fastest. F(4x4) also
     * needs 64 tiles or more over the batch (see below).
     */
    static Transform transformFor(ConvGeometry g) {
        if (g.kh() != 3 || g.kw() != 3 || g.sh() != 1 || g.sw() != 1 || g.ph() != 1 || g.pw() != 1) return null;
        Transform f = choose(g);
        // One image's transformed input (or output) takes (m+2)^2 floats per channel and tile: beyond 2^25 floats
        // (a 128 MB buffer per thread, e.g. a 432x432 map of 80 channels with F(4x4)) the direct path keeps memory bounded.
        if (f == null) return null;
        long perImage = (long) f.alpha() * f.alpha() * Math.max(g.cin(), g.cout())
                * Math.ceilDiv(g.hout(), f.m()) * Math.ceilDiv(g.wout(), f.m());
        return perImage > MAX_BUFFER_FLOATS ? null : f;
    }

    private static Transform choose(ConvGeometry g) {
        int side = Math.min(g.hout(), g.wout());
        long tiles4 = (long) g.n() * Math.ceilDiv(g.hout(), 4) * Math.ceilDiv(g.wout(), 4);
        // F(4x4) only when its products have enough columns: at batch 1, 28x28 gives 49 tiles (one 48-column
        // panel and a 1-column edge) where F(2x2) gives 196 (1.25 vs 1.14 ms at 160 channels)
        if (side >= 16 && tiles4 >= 64) return Transform.F4;
        return side >= 10 ? Transform.F2 : null;
    }

    /**
     * One F(m x m, 3 x 3), alpha = m + 2, with the standard matrices for interpolation points 0, +-1 (m = 2)
     * and 0, +-1, +-2 (m = 4), each with infinity. G (alpha x 3) transforms the kernels; B^T (alpha x alpha)
     * and A^T (m x alpha) are written out as vector code in inputTransform2/4 and outputTransform2/4.
     */
    record Transform(int m, double[][] g) {
        static final Transform F2 = new Transform(2, new double[][] {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}});
        static final Transform F4 = new Transform(4, new double[][] {
            {1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}});

        int alpha() {
            return m + 2;
        }
    }

    /**
     * Sizes for one geometry: th x tw tiles per image, phase rows of {@code twp} floats ({@code hp} padded
     * input rows per phase), {@code group} images per product, and lines of {@code tp} floats.
     */
    private record Layout(Transform f, int th, int tw, int twp, int hp, int group, int tp) {
        static Layout of(ConvGeometry g, Transform f) {
            int m = f.m(), th = Math.ceilDiv(g.hout(), m), tw = Math.ceilDiv(g.wout(), m);
            int group = Math.max(1, Math.min(g.n(), TARGET_TILES / (th * tw)));
            // Few groups: as many images in each as the thread count allows to balance (32 images of 7x7 tiles
            // in 4 groups of 8, not 10, 10, 10 and 2).
            int groups = Math.ceilDiv(g.n(), group), threads = Parallel.threads();
            if (groups < 4 * threads && groups % threads != 0 && g.n() >= threads) {
                group = Math.ceilDiv(g.n(), Math.ceilDiv(groups, threads) * threads);
            }
            int twp = roundUp(tw, L) + L; // the last vector of a tile row reads one phase column further
            return new Layout(f, th, tw, twp, m * th + 2, group, group * th * tw + L);
        }

        private static int roundUp(int v, int to) {
            return Math.ceilDiv(v, to) * to;
        }

        /** Floats per row of the output plane buffer: whole vectors of tiles, m columns each. */
        int planeWidth() {
            return f.m() * roundUp(tw, L);
        }

        int points() {
            return f.alpha() * f.alpha();
        }

        int groups(ConvGeometry g) {
            return Math.ceilDiv(g.n(), group);
        }

        int count(ConvGeometry g, int q) {
            return Math.min(group, g.n() - q * group);
        }
    }

    private static float[] scratch(int which, int size) {
        float[][] holder = SCRATCH.get();
        if (holder[which].length < size) holder[which] = new float[size];
        return holder[which];
    }

    /** out = act(conv(x, w) + bias) + residual, or out += conv(x, w) + bias when {@code accumulate}. */
    static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out, boolean accumulate,
                        Activations.Function act, float[] residual) {
        forward(g, x, w, bias, out, accumulate, act, residual, transformFor(g));
    }

    static void forward(ConvGeometry g, float[] x, float[] w, float[] bias, float[] out, boolean accumulate,
                        Activations.Function act, float[] residual, Transform f) {
        forward(g, x, w, null, bias, out, accumulate, act, residual, f);
    }

    /** As above; {@code frozen} (null for none) keeps the transformed weights of a weight that no longer changes. */
    static void forward(ConvGeometry g, float[] x, float[] w, Conv2d.FrozenWeight frozen, float[] bias, float[] out, boolean accumulate,
                        Activations.Function act, float[] residual, Transform f) {
        Layout lay = Layout.of(g, f);
        int cin = g.cin(), cout = g.cout(), points = lay.points();
        float[] u = frozen != null ? frozen.winograd(f, () -> transformedWeights(f, w, cout * cin, points, true))
                : transformedWeights(f, w, cout * cin, points, false);
        DirectConv.forGroups(lay.groups(g), q -> {
            int n0 = q * lay.group(), count = lay.count(g, q), tiles = count * lay.th() * lay.tw(), tp = lay.tp();
            float[] v = scratch(V_BUF, points * cin * tp), mm = scratch(M_BUF, points * cout * tp);
            Parallel.forRange(cin, 4, (c0, c1) -> {
                for (int ci = c0; ci < c1; ci++) transformInput(g, lay, x, n0, count, ci, v);
            });
            Parallel.forEach(points, p -> {
                // kept weights come from memory at a small batch: fetched line by line, many loads in flight, before the
                // product reads them (MambaVision-T at batch 1, alternating within three JVMs: median 56.3 / 54.1 / 59.3 ms
                // against 57.0 / 54.6 / 60.7)
                if (frozen != null) Gemm.touchLines(u, p * cout * cin, (p + 1) * cout * cin);
                Gemm.sgemm(false, false, cout, tiles, cin, u, p * cout * cin, cin, v, p * cin * tp, tp, 0f, mm, p * cout * tp, tp);
            });
            Parallel.forRange(cout, 4, (c0, c1) -> {
                for (int co = c0; co < c1; co++) {
                    for (int i = 0; i < count; i++) {
                        transformOutput(g, lay, mm, i, co, bias == null ? 0f : bias[co], out, ((n0 + i) * cout + co) * g.outPlane(),
                                accumulate, act, residual);
                    }
                }
            });
        });
        if (frozen == null) BufferPool.release(u);
    }

    /** The weights transformed for {@code f}: points x pairs floats, in a pooled buffer unless they are to be kept. */
    private static float[] transformedWeights(Transform f, float[] w, int pairs, int points, boolean keep) {
        float[] u = keep ? new float[points * pairs] : BufferPool.temporary(points * pairs);
        transformWeights(f, w, pairs, u);
        return u;
    }

    /**
     * gw += dL/dw for out = conv(x, w) and gout = dL/dout. The gradient of U = G g G^T is, per transform point
     * p, dU[p] = sum over tiles of D[p] V[p]^T with D = A dY A^T (dY an output tile of gout, A^T the output
     * transform's matrix) and V the forward's transformed input: (m+2)^2 products (Cout x tiles) x (tiles x Cin)
     * instead of the direct sum's 9 m^2 per tile. Then gw += G^T dU G. With enough groups each thread sums its
     * own groups and the threads' sums are added in order; otherwise the groups run in order, each using the threads.
     */
    static void weightGrad(ConvGeometry g, float[] x, float[] gout, float[] gw) {
        weightGrad(g, x, gout, gw, transformFor(g));
    }

    static void weightGrad(ConvGeometry g, float[] x, float[] gout, float[] gw, Transform f) {
        Layout lay = Layout.of(g, f);
        int cin = g.cin(), cout = g.cout(), points = lay.points(), pairs = cout * cin, groups = lay.groups(g);
        boolean tasks = groups >= Parallel.threads();
        int chunks = tasks ? Parallel.threads() : 1;
        float[][] partial = new float[chunks][];
        Parallel.forEach(chunks, chunk -> {
            float[] du = new float[points * pairs];
            int q0 = (int) ((long) groups * chunk / chunks), q1 = (int) ((long) groups * (chunk + 1) / chunks);
            for (int q = q0; q < q1; q++) {
                int n0 = q * lay.group(), count = lay.count(g, q), tiles = count * lay.th() * lay.tw(), tp = lay.tp();
                float[] v = scratch(V_BUF, points * cin * tp), d = scratch(M_BUF, points * cout * tp);
                Parallel.forRange(cin, 4, (c0, c1) -> {
                    for (int ci = c0; ci < c1; ci++) transformInput(g, lay, x, n0, count, ci, v);
                });
                Parallel.forRange(cout, 4, (c0, c1) -> {
                    for (int co = c0; co < c1; co++) transformGradient(g, lay, gout, n0, count, co, d);
                });
                Parallel.forEach(points, p -> Gemm.sgemm(false, true, cout, cin, tiles, d, p * cout * tp, tp,
                        v, p * cin * tp, tp, 1f, du, p * pairs, cin));
            }
            partial[chunk] = du;
        });
        float[] du = partial[0];
        for (int c = 1; c < chunks; c++) VecMath.addInto(du.length, partial[c], 0, du, 0);
        untransformWeightGrad(f, du, pairs, gw);
    }

    /**
     * D[p][co][tiles] = (A dY A^T)[p] for each output tile dY of channel co of the group's images (zero past
     * the output's edge): gout's rows are split into column phases, then per tile row and 16 tiles the
     * rows are transformed (E = dY A^T), then the columns (D = A E).
     */
    private static void transformGradient(ConvGeometry g, Layout lay, float[] gout, int n0, int count, int co, float[] d) {
        Transform f = lay.f();
        int m = f.m(), alpha = f.alpha(), th = lay.th(), tw = lay.tw(), twp = lay.twp(), rows = m * th;
        int hout = g.hout(), wout = g.wout(), cout = g.cout(), tp = lay.tp(), phasePlane = rows * twp;
        float[] ph = scratch(PHASES, m * phasePlane + m * twp), e = scratch(POINTS, m * alpha * L);
        int prow = m * phasePlane;
        Arrays.fill(ph, prow, prow + m * twp, 0f);
        for (int i = 0; i < count; i++) {
            int src = ((n0 + i) * cout + co) * g.outPlane();
            for (int y = 0; y < rows; y++) {
                if (y >= hout) {
                    for (int q = 0; q < m; q++) Arrays.fill(ph, q * phasePlane + y * twp, q * phasePlane + (y + 1) * twp, 0f);
                    continue;
                }
                System.arraycopy(gout, src + y * wout, ph, prow, wout);
                splitPhases(ph, prow, m, tw, y * twp, phasePlane); // a tile reads phase column tx only
            }
            for (int ty = 0; ty < th; ty++) {
                for (int tx0 = 0; tx0 < tw; tx0 += L) {
                    int t0 = (i * th + ty) * tw + tx0, ds = alpha * cout * tp;
                    for (int yi = 0; yi < m; yi++) { // rows: e[yi][b] = sum_j dY[yi][j] A^T[j][b]
                        int in = (m * ty + yi) * twp + tx0;
                        if (m == 4) gradientTransform4(ph, in, phasePlane, e, yi * alpha * L, L);
                        else gradientTransform2(ph, in, phasePlane, e, yi * alpha * L, L);
                    }
                    for (int b = 0; b < alpha; b++) { // columns: D[a][b] = sum_yi A[a][yi] e[yi][b]
                        int out = (b * cout + co) * tp + t0;
                        if (m == 4) gradientTransform4(e, b * L, alpha * L, d, out, ds);
                        else gradientTransform2(e, b * L, alpha * L, d, out, ds);
                    }
                }
            }
        }
    }

    /** out[k * ds] = (A y)[k] for the 4 vectors y at o, o + os, ... (F(4x4): A^T's columns). */
    private static void gradientTransform4(float[] src, int o, int os, float[] dst, int d, int ds) {
        FloatVector y0 = FloatVector.fromArray(S, src, o), y1 = FloatVector.fromArray(S, src, o + os);
        FloatVector y2 = FloatVector.fromArray(S, src, o + 2 * os), y3 = FloatVector.fromArray(S, src, o + 3 * os);
        FloatVector s02 = y0.add(y2), s13 = y1.add(y3), q = y0.add(y2.mul(4f)), r = y1.mul(2f).add(y3.mul(8f));
        y0.intoArray(dst, d);
        s02.add(s13).intoArray(dst, d + ds);        // y0 + y1 + y2 + y3
        s02.sub(s13).intoArray(dst, d + 2 * ds);    // y0 - y1 + y2 - y3
        q.add(r).intoArray(dst, d + 3 * ds);        // y0 + 2 y1 + 4 y2 + 8 y3
        q.sub(r).intoArray(dst, d + 4 * ds);        // y0 - 2 y1 + 4 y2 - 8 y3
        y3.intoArray(dst, d + 5 * ds);
    }

    /** out[k * ds] = (A y)[k] for F(2x2): y0, y0 + y1, y0 - y1, -y1. */
    private static void gradientTransform2(float[] src, int o, int os, float[] dst, int d, int ds) {
        FloatVector y0 = FloatVector.fromArray(S, src, o), y1 = FloatVector.fromArray(S, src, o + os);
        y0.intoArray(dst, d);
        y0.add(y1).intoArray(dst, d + ds);
        y0.sub(y1).intoArray(dst, d + 2 * ds);
        y1.neg().intoArray(dst, d + 3 * ds);
    }

    /** gw[pair][r][c] += (G^T dU G)[r][c], dU laid out (point, pair); in double per pair (about 1% of the work). */
    private static void untransformWeightGrad(Transform f, float[] du, int pairs, float[] gw) {
        int alpha = f.alpha();
        double[][] gm = f.g();
        Parallel.forRange(pairs, 256, (p0, p1) -> {
            double[] t = new double[alpha * 3];
            for (int p = p0; p < p1; p++) {
                for (int a = 0; a < alpha; a++) {
                    for (int c = 0; c < 3; c++) {
                        double acc = 0;
                        for (int b = 0; b < alpha; b++) acc += du[(a * alpha + b) * pairs + p] * gm[b][c];
                        t[a * 3 + c] = acc;
                    }
                }
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < 3; c++) {
                        double acc = 0;
                        for (int a = 0; a < alpha; a++) acc += gm[a][r] * t[a * 3 + c];
                        gw[p * 9 + r * 3 + c] += (float) acc;
                    }
                }
            }
        });
    }

    /**
     * U[p][pair] = (G g G^T)[p] for each (cout, cin) pair's kernel g (w is (pairs, 3, 3)), vectorized over
     * 16 pairs at a time: their kernels are transposed to (9, 16) first, then t = G g and U = t G^T.
     * Recomputed at every call (weights change in training); about 1% of a convolution's time.
     */
    static void transformWeights(Transform f, float[] w, int pairs, float[] u) {
        int alpha = f.alpha();
        float[] gm = new float[alpha * 3];
        for (int a = 0; a < alpha; a++) for (int c = 0; c < 3; c++) gm[a * 3 + c] = (float) f.g()[a][c];
        Parallel.forRange(Math.ceilDiv(pairs, L), 16, (b0, b1) -> {
            float[] k = new float[9 * L], t = new float[alpha * 3 * L];
            for (int blk = b0; blk < b1; blk++) {
                int p0 = blk * L, n = Math.min(L, pairs - p0);
                if (n < L) Arrays.fill(k, 0f);
                for (int j = 0; j < n; j++) for (int e = 0; e < 9; e++) k[e * L + j] = w[(p0 + j) * 9 + e];
                for (int a = 0; a < alpha; a++) {
                    for (int c = 0; c < 3; c++) {
                        FloatVector acc = FloatVector.fromArray(S, k, c * L).mul(gm[a * 3]);
                        acc = FloatVector.fromArray(S, k, (3 + c) * L).fma(FloatVector.broadcast(S, gm[a * 3 + 1]), acc);
                        acc = FloatVector.fromArray(S, k, (6 + c) * L).fma(FloatVector.broadcast(S, gm[a * 3 + 2]), acc);
                        acc.intoArray(t, (a * 3 + c) * L);
                    }
                }
                var lanes = S.indexInRange(0, n);
                for (int a = 0; a < alpha; a++) {
                    for (int b = 0; b < alpha; b++) {
                        FloatVector acc = FloatVector.fromArray(S, t, a * 3 * L).mul(gm[b * 3]);
                        acc = FloatVector.fromArray(S, t, (a * 3 + 1) * L).fma(FloatVector.broadcast(S, gm[b * 3 + 1]), acc);
                        acc = FloatVector.fromArray(S, t, (a * 3 + 2) * L).fma(FloatVector.broadcast(S, gm[b * 3 + 2]), acc);
                        acc.intoArray(u, (a * alpha + b) * pairs + p0, lanes);
                    }
                }
            }
        });
    }

    /** Lane i takes lane 2i (ODD: 2i + 1) of the pair (v0, v1); ZIP_LO/HI interleave the low/high halves of a pair. */
    private static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(S, i -> 2 * i), ODD = VectorShuffle.fromOp(S, i -> 2 * i + 1),
            ZIP_LO = VectorShuffle.fromOp(S, i -> (i / 2) + (i % 2) * L), ZIP_HI = VectorShuffle.fromOp(S, i -> L / 2 + (i / 2) + (i % 2) * L);

    /**
     * V[p][ci][tiles of images n0..n0+count) = (B^T d B)[p] for each tile's patch d of channel ci. Each
     * padded input row is split into its m column phases (one or two levels of even/odd unzips), then per
     * tile row and 16 tiles the rows are transformed first (R = d B), then the columns (V = B^T R).
     */
    private static void transformInput(ConvGeometry g, Layout lay, float[] x, int n0, int count, int ci, float[] v) {
        Transform f = lay.f();
        int m = f.m(), alpha = f.alpha(), th = lay.th(), tw = lay.tw(), twp = lay.twp(), hp = lay.hp();
        int h = g.h(), wd = g.w(), cin = g.cin(), tp = lay.tp(), phasePlane = hp * twp;
        float[] ph = scratch(PHASES, m * phasePlane + m * twp), r = scratch(POINTS, alpha * alpha * L);
        int prow = m * phasePlane; // a padded input row is assembled after the phases, then split
        Arrays.fill(ph, prow, prow + m * twp, 0f);
        for (int i = 0; i < count; i++) {
            int src = ((n0 + i) * cin + ci) * g.inPlane();
            for (int pr = 0; pr < hp; pr++) { // padded row pr = input row pr - 1, padded column c = input column c - 1
                int iy = pr - 1;
                if (iy < 0 || iy >= h) {
                    for (int q = 0; q < m; q++) Arrays.fill(ph, q * phasePlane + pr * twp, q * phasePlane + (pr + 1) * twp, 0f);
                    continue;
                }
                System.arraycopy(x, src + iy * wd, ph, prow + 1, wd);
                splitPhases(ph, prow, m, tw + 1, pr * twp, phasePlane); // a tile row reads phase columns 0..tw
            }
            for (int ty = 0; ty < th; ty++) {
                for (int tx0 = 0; tx0 < tw; tx0 += L) {
                    int t0 = (i * th + ty) * tw + tx0, vs = alpha * cin * tp; // V[a][j] is at (a * alpha + j), stride alpha for a
                    for (int a = 0; a < alpha; a++) { // rows: r[a][j] = sum_b d[a][b] B[b][j]
                        int base = (m * ty + a) * twp + tx0;
                        if (m == 4) {
                            inputTransform4(ph, base, base + phasePlane, base + 2 * phasePlane, base + 3 * phasePlane, base + 1,
                                    base + phasePlane + 1, r, a * alpha * L, L);
                        } else {
                            inputTransform2(ph, base, base + phasePlane, base + 1, base + phasePlane + 1, r, a * alpha * L, L);
                        }
                    }
                    for (int j = 0; j < alpha; j++) { // columns: V[a][j] = sum_a' B^T[a][a'] r[a'][j]
                        int in = j * L, st = alpha * L, out = (j * cin + ci) * tp + t0;
                        if (m == 4) inputTransform4(r, in, in + st, in + 2 * st, in + 3 * st, in + 4 * st, in + 5 * st, v, out, vs);
                        else inputTransform2(r, in, in + st, in + 2 * st, in + 3 * st, v, out, vs);
                    }
                }
            }
        }
    }

    /**
     * out[k * os] = (B^T d)[k] for the 6 vectors d at o0..o5 (F(4x4): the rows of B^T above, written with
     * shared partial sums as in NNPACK).
     */
    private static void inputTransform4(float[] src, int o0, int o1, int o2, int o3, int o4, int o5, float[] dst, int d, int ds) {
        FloatVector d0 = FloatVector.fromArray(S, src, o0), d1 = FloatVector.fromArray(S, src, o1);
        FloatVector d2 = FloatVector.fromArray(S, src, o2), d3 = FloatVector.fromArray(S, src, o3);
        FloatVector d4 = FloatVector.fromArray(S, src, o4), d5 = FloatVector.fromArray(S, src, o5);
        FloatVector s34 = d3.add(d4), s12 = d1.add(d2), t4m2 = d4.sub(d2), t3m1 = d3.sub(d1);
        d0.mul(4f).add(d4).sub(d2.mul(5f)).intoArray(dst, d);                 // 4 d0 - 5 d2 + d4
        s34.sub(s12.mul(4f)).intoArray(dst, d + ds);                           // -4 d1 - 4 d2 + d3 + d4
        d4.sub(d3).add(d1.sub(d2).mul(4f)).intoArray(dst, d + 2 * ds);         // 4 d1 - 4 d2 - d3 + d4
        t4m2.add(t3m1.mul(2f)).intoArray(dst, d + 3 * ds);                     // -2 d1 - d2 + 2 d3 + d4
        t4m2.sub(t3m1.mul(2f)).intoArray(dst, d + 4 * ds);                     // 2 d1 - d2 - 2 d3 + d4
        d1.mul(4f).add(d5).sub(d3.mul(5f)).intoArray(dst, d + 5 * ds);         // 4 d1 - 5 d3 + d5
    }

    /** out[k * os] = (B^T d)[k] for F(2x2): d0 - d2, d1 + d2, d2 - d1, d1 - d3. */
    private static void inputTransform2(float[] src, int o0, int o1, int o2, int o3, float[] dst, int d, int ds) {
        FloatVector d0 = FloatVector.fromArray(S, src, o0), d1 = FloatVector.fromArray(S, src, o1);
        FloatVector d2 = FloatVector.fromArray(S, src, o2), d3 = FloatVector.fromArray(S, src, o3);
        d0.sub(d2).intoArray(dst, d);
        d1.add(d2).intoArray(dst, d + ds);
        d2.sub(d1).intoArray(dst, d + 2 * ds);
        d1.sub(d3).intoArray(dst, d + 3 * ds);
    }

    /**
     * ph[q * phasePlane + dst + u] = ph[row + m * u + q] for u in [0, cols) rounded up to whole vectors: the
     * padded row at {@code row} split into m phases. Columns past {@code cols} are left as they were: only
     * lanes of tiles past the row's end read them, and those lanes are never used.
     */
    private static void splitPhases(float[] ph, int row, int m, int cols, int dst, int phasePlane) {
        for (int u0 = 0; u0 < cols; u0 += L) phaseButterfly(ph, row + m * u0, L, ph, dst + u0, phasePlane, m, false);
    }

    /**
     * Output channel co of image i of the group: Y = A^T M A + bias per tile (rows first); the m column
     * phases of each output row are interleaved (zips) into a plane buffer, whose rows are then copied to
     * the output at {@code dst} (or added to it when accumulating) before the activation and the residual.
     */
    private static void transformOutput(ConvGeometry g, Layout lay, float[] mm, int i, int co, float bias, float[] out, int dst,
                                        boolean accumulate, Activations.Function act, float[] residual) {
        Transform f = lay.f();
        int m = f.m(), alpha = f.alpha(), th = lay.th(), tw = lay.tw(), tp = lay.tp(), cout = g.cout();
        int hout = g.hout(), wout = g.wout(), wpl = lay.planeWidth();
        float[] s = scratch(POINTS, alpha * m * L + m * m * L), plane = scratch(PLANE, m * th * wpl);
        int yOff = alpha * m * L; // then Y, m phases per output row
        int ms = cout * tp; // M[p] for consecutive points p, at a fixed channel and tile
        for (int ty = 0; ty < th; ty++) {
            for (int tx0 = 0; tx0 < tw; tx0 += L) {
                int t0 = (i * th + ty) * tw + tx0;
                for (int a = 0; a < alpha; a++) { // rows: s[a][j] = sum_b M[a][b] A[b][j]
                    int in = (a * alpha * cout + co) * tp + t0;
                    if (m == 4) outputTransform4(mm, in, ms, s, a * m * L, L, 0f);
                    else outputTransform2(mm, in, ms, s, a * m * L, L, 0f);
                }
                for (int j = 0; j < m; j++) { // columns: Y[yi][j] = sum_a A^T[yi][a] s[a][j] + bias
                    if (m == 4) outputTransform4(s, j * L, m * L, s, yOff + j * L, m * L, bias);
                    else outputTransform2(s, j * L, m * L, s, yOff + j * L, m * L, bias);
                }
                for (int yi = 0; yi < m; yi++) joinPhases(s, yOff + yi * m * L, m, plane, (m * ty + yi) * wpl + m * tx0);
            }
        }
        for (int y = 0; y < hout; y++) {
            if (accumulate) VecMath.addInto(wout, plane, y * wpl, out, dst + y * wout);
            else System.arraycopy(plane, y * wpl, out, dst + y * wout, wout);
        }
        int n = hout * wout;
        if (act != null) act.applyInPlace(out, dst, dst + n);
        if (residual != null) VecMath.addInto(n, residual, dst, out, dst);
    }

    /** out[k * ds] = (A^T m)[k] + add for the 6 vectors m at o, o + os, ... (F(4x4)). */
    private static void outputTransform4(float[] src, int o, int os, float[] dst, int d, int ds, float add) {
        FloatVector m0 = FloatVector.fromArray(S, src, o), m1 = FloatVector.fromArray(S, src, o + os);
        FloatVector m2 = FloatVector.fromArray(S, src, o + 2 * os), m3 = FloatVector.fromArray(S, src, o + 3 * os);
        FloatVector m4 = FloatVector.fromArray(S, src, o + 4 * os), m5 = FloatVector.fromArray(S, src, o + 5 * os);
        FloatVector s12 = m1.add(m2), d12 = m1.sub(m2), s34 = m3.add(m4), d34 = m3.sub(m4);
        m0.add(s12).add(s34).add(add).intoArray(dst, d);                       // m0 + m1 + m2 + m3 + m4
        d12.add(d34.mul(2f)).add(add).intoArray(dst, d + ds);                  // m1 - m2 + 2 (m3 - m4)
        s12.add(s34.mul(4f)).add(add).intoArray(dst, d + 2 * ds);              // m1 + m2 + 4 (m3 + m4)
        d12.add(d34.mul(8f)).add(m5).add(add).intoArray(dst, d + 3 * ds);      // m1 - m2 + 8 (m3 - m4) + m5
    }

    /** out[k * ds] = (A^T m)[k] + add for F(2x2): m0 + m1 + m2, m1 - m2 - m3. */
    private static void outputTransform2(float[] src, int o, int os, float[] dst, int d, int ds, float add) {
        FloatVector m0 = FloatVector.fromArray(S, src, o), m1 = FloatVector.fromArray(S, src, o + os);
        FloatVector m2 = FloatVector.fromArray(S, src, o + 2 * os), m3 = FloatVector.fromArray(S, src, o + 3 * os);
        m0.add(m1).add(m2).add(add).intoArray(dst, d);
        m1.sub(m2).sub(m3).add(add).intoArray(dst, d + ds);
    }

    /** plane[dst + m * u + q] = s[src + q * L + u] for u < L: m phase vectors interleaved into m * L floats. */
    private static void joinPhases(float[] s, int src, int m, float[] plane, int dst) {
        phaseButterfly(s, src, L, plane, dst, L, m, true);
    }

    /**
     * The m vectors at src + k * sStep to the m vectors at dst + k * dStep through one (m = 2) or two (m = 4)
     * levels of even/odd unzips, which split m * L consecutive floats into their m column phases, or, with
     * {@code zip}, of interleaving zips, the inverse. The zips pair phases 0 and 2, 1 and 3 first, so their
     * inputs and outputs 1 and 2 trade places.
     */
    private static void phaseButterfly(float[] src, int s, int sStep, float[] dst, int d, int dStep, int m, boolean zip) {
        VectorShuffle<Float> first = zip ? ZIP_LO : EVEN, second = zip ? ZIP_HI : ODD;
        int one = zip && m == 4 ? 2 : 1, two = 3 - one;
        FloatVector a = FloatVector.fromArray(S, src, s), b = FloatVector.fromArray(S, src, s + one * sStep);
        if (m == 2) {
            a.rearrange(first, b).intoArray(dst, d);
            a.rearrange(second, b).intoArray(dst, d + dStep);
            return;
        }
        FloatVector c = FloatVector.fromArray(S, src, s + two * sStep), e = FloatVector.fromArray(S, src, s + 3 * sStep);
        FloatVector x1 = a.rearrange(first, b), x2 = a.rearrange(second, b), y1 = c.rearrange(first, e), y2 = c.rearrange(second, e);
        x1.rearrange(first, y1).intoArray(dst, d);
        x2.rearrange(first, y2).intoArray(dst, d + one * dStep);
        x1.rearrange(second, y1).intoArray(dst, d + two * dStep);
        x2.rearrange(second, y2).intoArray(dst, d + 3 * dStep);
    }
}
