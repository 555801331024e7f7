package org.mambavision.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/** The in-register 16 x 16 transpose shared by the selective scan's layout changes and the GEMM's B-panel packing. */
public final class Transpose16 {
    /** Tile side; {@link #tile} requires {@link #AVAILABLE} (16 float lanes, AVX-512). */
    public static final int SIZE = 16;
    public static final boolean AVAILABLE = FloatVector.SPECIES_PREFERRED.length() == SIZE;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_512;
    private static final int TILE = SIZE;

    private Transpose16() {}

    /**
     * Index vectors of the 16 x 16 transpose, two per stage j = 0 .. 3 (for {@code selectFrom(a, b)}: lane i of a is
     * index i, of b is 16 + i). Stage j exchanges bit j of the row number with bit j of the lane number between the rows
     * r and r | 2^j; after all four stages element (r, c) sits at (c, r).
     */
    private static final int[] TILE_IDX = new int[8 * TILE];

    static {
        for (int j = 0; j < 4; j++) {
            int bit = 1 << j;
            for (int i = 0; i < TILE; i++) {
                TILE_IDX[2 * j * TILE + i] = (i & bit) == 0 ? i : TILE + (i ^ bit); // new row r: its own lanes with bit j clear
                TILE_IDX[(2 * j + 1) * TILE + i] = (i & bit) != 0 ? TILE + i : i ^ bit; // new row r | 2^j
            }
        }
    }

    /**
     * Transposes a 16 x 16 tile (only when V == 16): row i of the result (at dOff + i dStride) is column i of the
     * source (rows at sOff + i sStride). Sixteen rows in registers, four stages of two-vector permutes; as ints,
     * since a float index vector would be converted to ints at every permute. Written out, not looped, so that the
     * rows stay in registers, and with Vector API calls only: those are force-inlined, while a helper of our own
     * would hit C2's node-count cutoff here and box its vectors.
     */
    public static void tile(float[] src, int sOff, int sStride, float[] dst, int dOff, int dStride) {
        IntVector r0 = FloatVector.fromArray(S, src, sOff).reinterpretAsInts(), r1 = FloatVector.fromArray(S, src, sOff + sStride).reinterpretAsInts(), r2 = FloatVector.fromArray(S, src, sOff + 2 * sStride).reinterpretAsInts(), r3 = FloatVector.fromArray(S, src, sOff + 3 * sStride).reinterpretAsInts();
        IntVector r4 = FloatVector.fromArray(S, src, sOff + 4 * sStride).reinterpretAsInts(), r5 = FloatVector.fromArray(S, src, sOff + 5 * sStride).reinterpretAsInts(), r6 = FloatVector.fromArray(S, src, sOff + 6 * sStride).reinterpretAsInts(), r7 = FloatVector.fromArray(S, src, sOff + 7 * sStride).reinterpretAsInts();
        IntVector r8 = FloatVector.fromArray(S, src, sOff + 8 * sStride).reinterpretAsInts(), r9 = FloatVector.fromArray(S, src, sOff + 9 * sStride).reinterpretAsInts(), r10 = FloatVector.fromArray(S, src, sOff + 10 * sStride).reinterpretAsInts(), r11 = FloatVector.fromArray(S, src, sOff + 11 * sStride).reinterpretAsInts();
        IntVector r12 = FloatVector.fromArray(S, src, sOff + 12 * sStride).reinterpretAsInts(), r13 = FloatVector.fromArray(S, src, sOff + 13 * sStride).reinterpretAsInts(), r14 = FloatVector.fromArray(S, src, sOff + 14 * sStride).reinterpretAsInts(), r15 = FloatVector.fromArray(S, src, sOff + 15 * sStride).reinterpretAsInts();
        IntVector lo = IntVector.fromArray(SI, TILE_IDX, 0), hi = IntVector.fromArray(SI, TILE_IDX, TILE), a;
        a = lo.selectFrom(r0, r1); r1 = hi.selectFrom(r0, r1); r0 = a;
        a = lo.selectFrom(r2, r3); r3 = hi.selectFrom(r2, r3); r2 = a;
        a = lo.selectFrom(r4, r5); r5 = hi.selectFrom(r4, r5); r4 = a;
        a = lo.selectFrom(r6, r7); r7 = hi.selectFrom(r6, r7); r6 = a;
        a = lo.selectFrom(r8, r9); r9 = hi.selectFrom(r8, r9); r8 = a;
        a = lo.selectFrom(r10, r11); r11 = hi.selectFrom(r10, r11); r10 = a;
        a = lo.selectFrom(r12, r13); r13 = hi.selectFrom(r12, r13); r12 = a;
        a = lo.selectFrom(r14, r15); r15 = hi.selectFrom(r14, r15); r14 = a;
        lo = IntVector.fromArray(SI, TILE_IDX, 2 * TILE);
        hi = IntVector.fromArray(SI, TILE_IDX, 3 * TILE);
        a = lo.selectFrom(r0, r2); r2 = hi.selectFrom(r0, r2); r0 = a;
        a = lo.selectFrom(r1, r3); r3 = hi.selectFrom(r1, r3); r1 = a;
        a = lo.selectFrom(r4, r6); r6 = hi.selectFrom(r4, r6); r4 = a;
        a = lo.selectFrom(r5, r7); r7 = hi.selectFrom(r5, r7); r5 = a;
        a = lo.selectFrom(r8, r10); r10 = hi.selectFrom(r8, r10); r8 = a;
        a = lo.selectFrom(r9, r11); r11 = hi.selectFrom(r9, r11); r9 = a;
        a = lo.selectFrom(r12, r14); r14 = hi.selectFrom(r12, r14); r12 = a;
        a = lo.selectFrom(r13, r15); r15 = hi.selectFrom(r13, r15); r13 = a;
        lo = IntVector.fromArray(SI, TILE_IDX, 4 * TILE);
        hi = IntVector.fromArray(SI, TILE_IDX, 5 * TILE);
        a = lo.selectFrom(r0, r4); r4 = hi.selectFrom(r0, r4); r0 = a;
        a = lo.selectFrom(r1, r5); r5 = hi.selectFrom(r1, r5); r1 = a;
        a = lo.selectFrom(r2, r6); r6 = hi.selectFrom(r2, r6); r2 = a;
        a = lo.selectFrom(r3, r7); r7 = hi.selectFrom(r3, r7); r3 = a;
        a = lo.selectFrom(r8, r12); r12 = hi.selectFrom(r8, r12); r8 = a;
        a = lo.selectFrom(r9, r13); r13 = hi.selectFrom(r9, r13); r9 = a;
        a = lo.selectFrom(r10, r14); r14 = hi.selectFrom(r10, r14); r10 = a;
        a = lo.selectFrom(r11, r15); r15 = hi.selectFrom(r11, r15); r11 = a;
        lo = IntVector.fromArray(SI, TILE_IDX, 6 * TILE);
        hi = IntVector.fromArray(SI, TILE_IDX, 7 * TILE);
        a = lo.selectFrom(r0, r8); r8 = hi.selectFrom(r0, r8); r0 = a;
        a = lo.selectFrom(r1, r9); r9 = hi.selectFrom(r1, r9); r1 = a;
        a = lo.selectFrom(r2, r10); r10 = hi.selectFrom(r2, r10); r2 = a;
        a = lo.selectFrom(r3, r11); r11 = hi.selectFrom(r3, r11); r3 = a;
        a = lo.selectFrom(r4, r12); r12 = hi.selectFrom(r4, r12); r4 = a;
        a = lo.selectFrom(r5, r13); r13 = hi.selectFrom(r5, r13); r5 = a;
        a = lo.selectFrom(r6, r14); r14 = hi.selectFrom(r6, r14); r6 = a;
        a = lo.selectFrom(r7, r15); r15 = hi.selectFrom(r7, r15); r7 = a;
        r0.reinterpretAsFloats().intoArray(dst, dOff); r1.reinterpretAsFloats().intoArray(dst, dOff + dStride); r2.reinterpretAsFloats().intoArray(dst, dOff + 2 * dStride); r3.reinterpretAsFloats().intoArray(dst, dOff + 3 * dStride);
        r4.reinterpretAsFloats().intoArray(dst, dOff + 4 * dStride); r5.reinterpretAsFloats().intoArray(dst, dOff + 5 * dStride); r6.reinterpretAsFloats().intoArray(dst, dOff + 6 * dStride); r7.reinterpretAsFloats().intoArray(dst, dOff + 7 * dStride);
        r8.reinterpretAsFloats().intoArray(dst, dOff + 8 * dStride); r9.reinterpretAsFloats().intoArray(dst, dOff + 9 * dStride); r10.reinterpretAsFloats().intoArray(dst, dOff + 10 * dStride); r11.reinterpretAsFloats().intoArray(dst, dOff + 11 * dStride);
        r12.reinterpretAsFloats().intoArray(dst, dOff + 12 * dStride); r13.reinterpretAsFloats().intoArray(dst, dOff + 13 * dStride); r14.reinterpretAsFloats().intoArray(dst, dOff + 14 * dStride); r15.reinterpretAsFloats().intoArray(dst, dOff + 15 * dStride);
    }

}
