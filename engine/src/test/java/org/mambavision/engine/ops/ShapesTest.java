package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class ShapesTest {
    private static float[] naivePermute(Tensor x, int[] perm) {
        int[] s = x.shape();
        int r = s.length;
        int[] os = new int[r];
        for (int i = 0; i < r; i++) os[i] = s[perm[i]];
        float[] out = new float[x.numel()];
        int[] oi = new int[r], ii = new int[r];
        for (int i = 0; i < out.length; i++) {
            int rem = i;
            for (int d = r - 1; d >= 0; d--) {
                oi[d] = rem % os[d];
                rem /= os[d];
            }
            for (int d = 0; d < r; d++) ii[perm[d]] = oi[d];
            out[i] = x.get(ii);
        }
        return out;
    }

    @Test
    void permuteMatchesNaive() {
        int[][] shapes = {{3, 5, 7}, {2, 3, 5, 7}, {2, 1, 3, 5, 7}, {40, 70}, {2, 49, 3, 2, 8}, {1, 1, 3}};
        int[][][] perms = {
            {{0, 2, 1}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}},
            {{0, 2, 3, 1}, {0, 3, 1, 2}, {0, 1, 3, 2}, {3, 2, 1, 0}, {1, 0, 2, 3}},
            {{2, 0, 3, 1, 4}, {0, 1, 4, 3, 2}, {4, 3, 2, 1, 0}},
            {{1, 0}},
            {{2, 0, 3, 1, 4}},
            {{2, 1, 0}, {0, 2, 1}}};
        long seed = 1;
        for (int k = 0; k < shapes.length; k++) {
            for (int[] p : perms[k]) {
                Tensor x = TestUtil.randn(seed++, shapes[k]);
                Tensor y = Shapes.permute(x, p);
                assertArrayEquals(naivePermute(x, p), y.data, "permute " + x.shapeString() + " by " + java.util.Arrays.toString(p));
                GradCheck.check("permute", () -> Shapes.permute(x, p), x);
            }
        }
        Tensor x = TestUtil.randn(3, 2, 3, 4);
        assertArrayEquals(naivePermute(x, new int[] {0, 2, 1}), Shapes.transpose(x, -1, 1).data);
        assertArrayEquals(new int[] {2, 4, 3}, Shapes.permute(x, 0, -1, -2).shape());
    }

    @Test
    void bigTransposeUsesTiles() {
        Tensor x = TestUtil.randn(4, 3, 197, 130);
        Tensor y = Shapes.transpose(x, 1, 2);
        assertArrayEquals(naivePermute(x, new int[] {0, 2, 1}), y.data);
    }

    @Test
    void concatSliceSplit() {
        Tensor a = TestUtil.randn(1, 2, 3, 5), b = TestUtil.randn(2, 2, 4, 5), c = TestUtil.randn(3, 2, 1, 5);
        Tensor cat = Shapes.concat(1, a, b, c);
        assertArrayEquals(new int[] {2, 8, 5}, cat.shape());
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 8; j++) {
                for (int k = 0; k < 5; k++) {
                    float want = j < 3 ? a.get(i, j, k) : j < 7 ? b.get(i, j - 3, k) : c.get(i, j - 7, k);
                    assertEquals(want, cat.get(i, j, k));
                }
            }
        }
        Tensor[] parts = Shapes.split(cat, -2, 3, 4, 1);
        assertArrayEquals(a.data, parts[0].data);
        assertArrayEquals(b.data, parts[1].data);
        assertArrayEquals(c.data, parts[2].data);
        Tensor s = Shapes.slice(cat, 2, 1, 4);
        assertArrayEquals(new int[] {2, 8, 3}, s.shape());
        assertEquals(cat.get(1, 6, 3), s.get(1, 6, 2));
        GradCheck.check("concat", () -> Shapes.concat(-2, a, b, c), a, b, c);
        GradCheck.check("slice", () -> Shapes.slice(b, 1, 1, 3), b);
        GradCheck.check("split", () -> {
            Tensor[] p = Shapes.split(b, 2, 2, 3);
            return Shapes.concat(2, p[1], p[0]);
        }, b);
        Tensor d = TestUtil.randn(4, 3, 5);
        assertArrayEquals(new int[] {3, 10}, Shapes.concat(0, d, d).reshape(3, 10).shape());
        assertArrayEquals(new int[] {6, 5}, Shapes.concat(0, d, d).shape());
    }

    @Test
    void errorsNameOpAndShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> Shapes.concat(0, Tensor.zeros(2, 3), Tensor.zeros(2, 4)));
        assertTrue(e.getMessage().startsWith("concat") && e.getMessage().contains("[2, 4]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Shapes.split(Tensor.zeros(2, 3), 1, 1, 1));
        assertTrue(e.getMessage().startsWith("split") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shapes.slice(Tensor.zeros(2, 3), 1, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> Shapes.permute(Tensor.zeros(2, 3), 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Shapes.transpose(Tensor.zeros(2, 3), 0, 2));
    }
}
