package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class MatmulTest {
    /** Naive op(a) op(b) for a (batch, ., .) and b (batch or shared, ., .), in double. */
    static float[] naive(Tensor a, Tensor b, boolean transA, boolean transB) {
        int M = transA ? a.dim(-1) : a.dim(-2), K = transA ? a.dim(-2) : a.dim(-1), N = transB ? b.dim(-2) : b.dim(-1);
        int batch = a.numel() / (M * K);
        boolean shared = b.rank() == 2;
        float[] c = new float[batch * M * N];
        for (int p = 0; p < batch; p++) {
            int ao = p * M * K, bo = shared ? 0 : p * K * N;
            for (int i = 0; i < M; i++) {
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++) {
                        float x = transA ? a.data[ao + k * M + i] : a.data[ao + i * K + k];
                        float y = transB ? b.data[bo + j * K + k] : b.data[bo + k * N + j];
                        s += (double) x * y;
                    }
                    c[p * M * N + i * N + j] = (float) s;
                }
            }
        }
        return c;
    }

    private static int[] shape(int[] batch, int r, int c) {
        int[] s = java.util.Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])))) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    @Test
    void forwardMatchesNaiveForEveryTransposeBatchedAndShared() {
        SplittableRandom rng = new SplittableRandom(1);
        int M = 13, K = 7, N = 33;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            for (int[] batch : new int[][] {{}, {3}, {2, 3}}) {
                Tensor a = Tensor.randn(rng, 1f, shape(batch, ta ? K : M, ta ? M : K));
                Tensor bBatched = Tensor.randn(rng, 1f, shape(batch, tb ? N : K, tb ? K : N));
                Tensor bShared = Tensor.randn(rng, 1f, tb ? N : K, tb ? K : N);
                for (Tensor b : new Tensor[] {bBatched, bShared}) {
                    Tensor c = Matmul.forward(a, b, ta, tb);
                    assertArrayEquals(shape(batch, M, N), c.shape());
                    assertClose(naive(a, b, ta, tb), c.data, 1e-5, "Matmul " + a.shapeString() + " x " + b.shapeString() + " ta=" + ta + " tb=" + tb);
                }
            }
        }
    }

    @Test
    void noTransposeOverloadIsPlainProduct() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertArrayEquals(new float[] {4, 5, 10, 11}, Matmul.forward(a, b).data);
    }

    @Test
    void gradientsForEveryTransposeBatchedAndShared() {
        SplittableRandom rng = new SplittableRandom(2);
        int M = 7, K = 13, N = 5;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            for (boolean shared : new boolean[] {false, true}) {
                int[] batch = {2, 3};
                Tensor a = Tensor.randn(rng, 1f, shape(batch, ta ? K : M, ta ? M : K)).name("a");
                Tensor b = (shared ? Tensor.randn(rng, 1f, tb ? N : K, tb ? K : N) : Tensor.randn(rng, 1f, shape(batch, tb ? N : K, tb ? K : N))).name("b");
                GradCheck.check("Matmul ta=" + ta + " tb=" + tb + " shared=" + shared, () -> Matmul.forward(a, b, ta, tb), a, b);
            }
        }
        Tensor a = Tensor.randn(rng, 1f, 1, 33).name("a"), b = Tensor.randn(rng, 1f, 33, 1).name("b");
        GradCheck.check("Matmul 1x33x1", () -> Matmul.forward(a, b), a, b);
    }

    /** Large enough that the parallel, multi-tile GEMM paths run; gradients against naive formulas. */
    @Test
    void largeSharedAndBatchedGradientsMatchNaive() {
        SplittableRandom rng = new SplittableRandom(3);
        int M = 67, K = 130, N = 90;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            for (boolean shared : new boolean[] {false, true}) {
                int[] batch = {5};
                Tensor a = Tensor.randn(rng, 1f, shape(batch, ta ? K : M, ta ? M : K)).requiresGrad(true);
                Tensor b = (shared ? Tensor.randn(rng, 1f, tb ? N : K, tb ? K : N) : Tensor.randn(rng, 1f, shape(batch, tb ? N : K, tb ? K : N))).requiresGrad(true);
                Tensor c = Matmul.forward(a, b, ta, tb);
                Tensor g = Tensor.randn(rng, 1f, c.shape());
                Tape.backward(c, g.data);
                // dop(a) = G op(b)^T, dop(b) = op(a)^T G; stored gradients follow the stored layout.
                float[] expA = naive(g, b, false, !tb);           // (batch, M, K)
                if (ta) expA = transposeLast2(expA, 5, M, K);
                String what = "Matmul ta=" + ta + " tb=" + tb + " shared=" + shared;
                assertClose(expA, a.grad, 1e-4, what + " grad a");
                float[] expB;
                if (shared) {
                    expB = new float[K * N];
                    for (int p = 0; p < 5; p++) {
                        Tensor ap = slice(a, p), gp = slice(g, p);
                        float[] part = naive(ap, gp, !ta, false);
                        for (int i = 0; i < part.length; i++) expB[i] += part[i];
                    }
                } else {
                    expB = naive(a, g, !ta, false);                  // (batch, K, N)
                }
                if (tb) expB = transposeLast2(expB, shared ? 1 : 5, K, N);
                assertClose(expB, b.grad, 1e-4, what + " grad b");
            }
        }
    }

    @Test
    void shapeErrorsNameOpAndShapes() {
        Tensor a = Tensor.zeros(2, 3, 4), b = Tensor.zeros(5, 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Matmul.forward(a, b));
        assertTrue(e.getMessage().contains("Matmul") && e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[5, 6]"), e.getMessage());
        Tensor c = Tensor.zeros(3, 4, 6);
        e = assertThrows(IllegalArgumentException.class, () -> Matmul.forward(a, c));
        assertTrue(e.getMessage().contains("Matmul") && e.getMessage().contains("[3, 4, 6]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Matmul.forward(Tensor.zeros(4), Tensor.zeros(4, 2)));
        assertTrue(e.getMessage().contains("Matmul") && e.getMessage().contains("[4]"), e.getMessage());
    }

    private static Tensor slice(Tensor t, int p) {
        int r = t.dim(-2), c = t.dim(-1);
        float[] d = new float[r * c];
        System.arraycopy(t.data, p * r * c, d, 0, r * c);
        return Tensor.of(d, r, c);
    }

    /** Per batch, a rows x cols matrix to cols x rows. */
    private static float[] transposeLast2(float[] x, int batch, int rows, int cols) {
        float[] y = new float[x.length];
        for (int p = 0; p < batch; p++) for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) y[p * rows * cols + j * rows + i] = x[p * rows * cols + i * cols + j];
        return y;
    }
}
