package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class ReduceTest {
    /** Reference: double sums over the flagged dims, keepDim layout. */
    private static double[] naiveSum(Tensor x, boolean[] red) {
        int[] s = x.shape();
        int r = s.length;
        int[] os = new int[r];
        for (int i = 0; i < r; i++) os[i] = red[i] ? 1 : s[i];
        double[] out = new double[Tensor.numel(os)];
        int[] idx = new int[r];
        for (int i = 0; i < x.numel(); i++) {
            int rem = i;
            for (int d = r - 1; d >= 0; d--) {
                idx[d] = rem % s[d];
                rem /= s[d];
            }
            int o = 0;
            for (int d = 0; d < r; d++) o = o * os[d] + (red[d] ? 0 : idx[d]);
            out[o] += x.data[i];
        }
        return out;
    }

    @Test
    void sumAndMeanOverDimSets() {
        int[] shape = {3, 5, 7, 2};
        Tensor x = TestUtil.randn(1, shape);
        long seed = 2;
        for (int mask = 1; mask < 16; mask++) {
            boolean[] red = new boolean[4];
            int cnt = 0, count = 1;
            for (int d = 0; d < 4; d++) if ((mask >> d & 1) != 0) { red[d] = true; cnt++; count *= shape[d]; }
            int[] dims = new int[cnt];
            for (int d = 0, j = 0; d < 4; d++) if (red[d]) dims[j++] = d - (seed++ % 2 == 0 ? 4 : 0); // mix negative dims
            double[] want = naiveSum(x, red);
            Tensor s = Reduce.sum(x, true, dims);
            TestUtil.assertClose("sum mask " + mask, want, s.data, 1e-6, 1e-6);
            Tensor m = Reduce.mean(x, false, dims);
            assertEquals(4 - cnt, m.rank());
            double[] wantMean = want.clone();
            for (int i = 0; i < wantMean.length; i++) wantMean[i] /= count;
            TestUtil.assertClose("mean mask " + mask, wantMean, m.data, 1e-6, 1e-7);
            GradCheck.check("sum " + mask, () -> Reduce.sum(x, false, dims), x);
            GradCheck.check("mean " + mask, () -> Reduce.mean(x, true, dims), x);
        }
    }

    @Test
    void scalarsAreRankZeroAndAccurate() {
        // 10^5 values around 1000: a naive float running sum drifts visibly
        int n = 100_003;
        Tensor x = Tensor.zeros(n);
        double ref = 0;
        java.util.SplittableRandom rng = new java.util.SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            x.data[i] = 1000f + (float) rng.nextDouble();
            ref += x.data[i];
        }
        Tensor m = Reduce.meanAll(x);
        assertEquals(0, m.rank());
        assertEquals(ref / n, m.item(), 1e-4);
        assertEquals(ref, Reduce.sumAll(x).item(), Math.ulp((float) ref));
        Tensor y = TestUtil.randn(3, 3, 5, 7);
        GradCheck.check("meanAll", () -> Reduce.meanAll(y), y);
        GradCheck.check("sumAll", () -> Reduce.sumAll(y), y);
        assertEquals(0, Reduce.sum(y, false).rank());
    }

    @Test
    void globalPoolAndColumnSumsOnBigTensors() {
        Tensor x = TestUtil.randn(4, 8, 64, 14, 14);
        TestUtil.assertClose("pool", naiveMean(x, new boolean[] {false, false, true, true}), Reduce.mean(x, false, 2, 3).data, 1e-5, 1e-7);
        Tensor t = TestUtil.randn(5, 16, 196, 40);
        double[] want = naiveSum(t, new boolean[] {true, true, false});
        TestUtil.assertClose("columns", want, Reduce.sum(t, false, 0, 1).data, 1e-5, 1e-5);
    }

    private static double[] naiveMean(Tensor x, boolean[] red) {
        double[] s = naiveSum(x, red);
        int count = 1;
        for (int d = 0; d < red.length; d++) if (red[d]) count *= x.dim(d);
        for (int i = 0; i < s.length; i++) s[i] /= count;
        return s;
    }

    @Test
    void badDimsNameOpAndShape() {
        var e = assertThrows(IllegalArgumentException.class, () -> Reduce.sum(Tensor.zeros(2, 3), false, 2));
        assertTrue(e.getMessage().startsWith("sum") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Reduce.mean(Tensor.zeros(2, 3), false, 1, -1));
    }
}
