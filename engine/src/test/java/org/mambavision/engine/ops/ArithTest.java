package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.function.BinaryOperator;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class ArithTest {
    /** (a shape, b shape) pairs: same shape, trailing, (1,C,1,1), scalar, both broadcast, rank 5, odd tails. */
    private static final int[][][] CASES = {
        {{3, 5, 7}, {3, 5, 7}},
        {{2, 13, 33}, {33}},
        {{2, 6, 5, 7}, {1, 6, 1, 1}},
        {{3, 5, 7}, {}},
        {{3, 1, 7}, {5, 1}},
        {{2, 3, 1, 4, 5}, {3, 2, 1, 5}},
        {{7}, {4, 3, 7}},
        {{33, 1}, {1, 17}},
    };

    private static float[] naive(int[] as, float[] a, int[] bs, float[] b, int[] os, char op) {
        int r = os.length;
        int n = Tensor.numel(os);
        float[] out = new float[n];
        int[] idx = new int[r];
        for (int i = 0; i < n; i++) {
            int rem = i;
            for (int d = r - 1; d >= 0; d--) {
                idx[d] = rem % os[d];
                rem /= os[d];
            }
            float x = a[flat(as, idx)], y = b[flat(bs, idx)];
            out[i] = op == '+' ? x + y : op == '-' ? x - y : x * y;
        }
        return out;
    }

    private static int flat(int[] shape, int[] outIdx) {
        int off = 0, shift = outIdx.length - shape.length;
        for (int d = 0; d < shape.length; d++) off = off * shape[d] + (shape[d] == 1 ? 0 : outIdx[d + shift]);
        return off;
    }

    private static int[] bshape(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] o = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
            int db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
            o[i] = Math.max(da, db);
        }
        return o;
    }

    @Test
    void forwardMatchesNaiveBroadcast() {
        char[] ops = {'+', '-', '*'};
        @SuppressWarnings("unchecked")
        BinaryOperator<Tensor>[] fns = new BinaryOperator[] {
            (BinaryOperator<Tensor>) Arith::add, (BinaryOperator<Tensor>) Arith::sub, (BinaryOperator<Tensor>) Arith::mul};
        long seed = 1;
        for (int[][] c : CASES) {
            for (int k = 0; k < 3; k++) {
                for (boolean swap : new boolean[] {false, true}) {
                    int[] as = swap ? c[1] : c[0], bs = swap ? c[0] : c[1];
                    Tensor a = TestUtil.randn(seed++, as), b = TestUtil.randn(seed++, bs);
                    Tensor out = fns[k].apply(a, b);
                    int[] os = bshape(as, bs);
                    assertArrayEquals(os, out.shape());
                    TestUtil.assertClose("op " + ops[k] + " " + a.shapeString() + " " + b.shapeString(),
                            naive(as, a.data, bs, b.data, os, ops[k]), out.data, 1e-6, 1e-7);
                }
            }
        }
    }

    @Test
    void bigTensorsTakeTheParallelPath() {
        Tensor a = TestUtil.randn(1, 4, 197, 80), b = TestUtil.randn(2, 80), c = TestUtil.randn(3, 1, 197, 1);
        Tensor out = Arith.add(Arith.mul(a, b), c);
        float[] want = naive(a.shape(), naive(a.shape(), a.data, b.shape(), b.data, a.shape(), '*'), c.shape(), c.data, a.shape(), '+');
        TestUtil.assertClose("mul then add", want, out.data, 1e-6, 1e-7);
    }

    @Test
    void gradients() {
        long seed = 100;
        for (int[][] c : CASES) {
            for (boolean swap : new boolean[] {false, true}) {
                int[] as = swap ? c[1] : c[0], bs = swap ? c[0] : c[1];
                Tensor a = TestUtil.randn(seed++, as).name("a"), b = TestUtil.randn(seed++, bs).name("b");
                GradCheck.check("add", () -> Arith.add(a, b), a, b);
                GradCheck.check("sub", () -> Arith.sub(a, b), a, b);
                GradCheck.check("mul", () -> Arith.mul(a, b), a, b);
            }
        }
        Tensor x = TestUtil.randn(9, 3, 5, 7);
        GradCheck.check("scale", () -> Arith.scale(x, -2.5f), x);
        GradCheck.check("addScalar", () -> Arith.addScalar(x, 3f), x);
        GradCheck.check("mul self", () -> Arith.mul(x, x), x);
    }

    @Test
    void scalarOps() {
        Tensor x = TestUtil.randn(5, 2, 33);
        Tensor s = Arith.scale(x, 3f), t = Arith.addScalar(x, -1.5f);
        for (int i = 0; i < x.numel(); i++) {
            assertEquals(x.data[i] * 3f, s.data[i]);
            assertEquals(x.data[i] - 1.5f, t.data[i]);
        }
    }

    @Test
    void shapeErrorsNameOpAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Arith.mul(Tensor.zeros(2, 3), Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("mul") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
    }
}
