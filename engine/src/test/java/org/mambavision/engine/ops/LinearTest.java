package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class LinearTest {
    /** y[r][o] = sum_i x[r][i] w[o][i] + b[o], in double. */
    private static float[] naive(Tensor x, Tensor w, Tensor b) {
        int in = w.dim(1), out = w.dim(0), rows = x.numel() / in;
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.data[o];
                for (int i = 0; i < in; i++) s += (double) x.data[r * in + i] * w.data[o * in + i];
                y[r * out + o] = (float) s;
            }
        }
        return y;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])))) fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
        }
    }

    @Test
    void forwardMatchesNaiveForRanksOneToThree() {
        SplittableRandom rng = new SplittableRandom(1);
        Tensor w = Tensor.randn(rng, 1f, 33, 13), b = Tensor.randn(rng, 1f, 33);
        for (int[] xs : new int[][] {{13}, {7, 13}, {2, 7, 13}}) {
            Tensor x = Tensor.randn(rng, 1f, xs);
            for (Tensor bias : new Tensor[] {b, null}) {
                Tensor y = Linear.forward(x, w, bias);
                int[] ys = xs.clone();
                ys[ys.length - 1] = 33;
                assertArrayEquals(ys, y.shape());
                assertClose(naive(x, w, bias), y.data, 1e-5, "Linear " + x.shapeString() + " bias=" + (bias != null));
            }
        }
    }

    @Test
    void gradientsWithAndWithoutBias() {
        SplittableRandom rng = new SplittableRandom(2);
        Tensor x = Tensor.randn(rng, 1f, 2, 7, 13).name("x");
        Tensor w = Tensor.randn(rng, 1f, 5, 13).name("weight");
        Tensor b = Tensor.randn(rng, 1f, 5).name("bias");
        GradCheck.check("Linear with bias", () -> Linear.forward(x, w, b), x, w, b);
        GradCheck.check("Linear without bias", () -> Linear.forward(x, w, null), x, w);
        Tensor v = Tensor.randn(rng, 1f, 33).name("v");
        Tensor w2 = Tensor.randn(rng, 1f, 7, 33).name("w2");
        GradCheck.check("Linear rank 1", () -> Linear.forward(v, w2, null), v, w2);
    }

    /** Big enough for the parallel GEMM and column-sum paths; gradients against naive formulas. */
    @Test
    void largeGradientsMatchNaiveAndAccumulate() {
        SplittableRandom rng = new SplittableRandom(3);
        int rows = 3 * 130, in = 67, out = 257;
        Tensor x = Tensor.randn(rng, 1f, 3, 130, in).requiresGrad(true);
        Tensor w = Tensor.randn(rng, 1f, out, in).requiresGrad(true);
        Tensor b = Tensor.randn(rng, 1f, out).requiresGrad(true);
        float[] prior = new float[out * in];
        java.util.Arrays.fill(prior, 0.25f);
        w.grad = prior.clone(); // gradients accumulate into what is there
        Tensor y = Linear.forward(x, w, b);
        assertClose(naive(x, w, b), y.data, 1e-4, "Linear forward");
        float[] g = Tensor.randn(rng, 1f, y.shape()).data;
        Tape.backward(y, g);
        float[] dx = new float[rows * in], dw = new float[out * in], db = new float[out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float go = g[r * out + o];
                db[o] += go;
                for (int i = 0; i < in; i++) {
                    dx[r * in + i] += go * w.data[o * in + i];
                    dw[o * in + i] += go * x.data[r * in + i];
                }
            }
        }
        for (int i = 0; i < dw.length; i++) dw[i] += 0.25f;
        assertClose(dx, x.grad, 1e-4, "Linear grad x");
        assertClose(dw, w.grad, 1e-4, "Linear grad weight");
        assertClose(db, b.grad, 1e-4, "Linear grad bias");
    }

    @Test
    void shapeErrorsNameOpAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Linear.forward(Tensor.zeros(4, 6), Tensor.zeros(3, 5), null));
        assertTrue(e.getMessage().contains("Linear") && e.getMessage().contains("[4, 6]") && e.getMessage().contains("[3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Linear.forward(Tensor.zeros(4, 5), Tensor.zeros(3, 5), Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("Linear") && e.getMessage().contains("[4]") && e.getMessage().contains("[3, 5]"), e.getMessage());
    }

    /** (B, A, C) -> (B, C, A), plain loops. */
    private static Tensor swapLast(Tensor t) {
        int b = t.dim(0), p = t.dim(1), q = t.dim(2);
        Tensor o = Tensor.zeros(b, q, p);
        for (int i = 0; i < b; i++) for (int j = 0; j < p; j++) for (int k = 0; k < q; k++) o.data[(i * q + k) * p + j] = t.data[(i * p + j) * q + k];
        return o;
    }

    @Test
    void forwardLayoutMatchesNaiveInAllLayouts() {
        SplittableRandom rng = new SplittableRandom(3);
        int in = 13, out = 33, r0 = 5, r1 = 22;
        Tensor w = Tensor.randn(rng, 1f, out, in), b = Tensor.randn(rng, 1f, out);
        Tensor wr = Tensor.zeros(r1 - r0, in), br = Tensor.zeros(r1 - r0);
        System.arraycopy(w.data, r0 * in, wr.data, 0, (r1 - r0) * in);
        System.arraycopy(b.data, r0, br.data, 0, r1 - r0);
        for (int batch : new int[] {1, 3}) {
            Tensor x = Tensor.randn(rng, 1f, batch, 7, in); // (B, L, in)
            for (Tensor bias : new Tensor[] {b, null}) {
                float[] expected = naive(x, wr, bias == null ? null : br); // (B, L, n)
                Tensor expCf = swapLast(Tensor.of(expected, batch, 7, r1 - r0));
                for (boolean xCf : new boolean[] {false, true}) {
                    for (boolean yCf : new boolean[] {false, true}) {
                        Tensor y = Linear.forwardLayout(xCf ? swapLast(x) : x, xCf, w, r0, r1, bias, yCf);
                        String what = "forwardLayout B=" + batch + " xCf=" + xCf + " yCf=" + yCf + " bias=" + (bias != null);
                        assertArrayEquals(yCf ? new int[] {batch, r1 - r0, 7} : new int[] {batch, 7, r1 - r0}, y.shape(), what);
                        assertClose(yCf ? expCf.data : expected, y.data, 1e-5, what);
                    }
                }
            }
        }
    }

    @Test
    void forwardLayoutGradients() {
        SplittableRandom rng = new SplittableRandom(4);
        Tensor w = Tensor.randn(rng, 1f, 9, 13).name("weight");
        Tensor b = Tensor.randn(rng, 1f, 9).name("bias");
        for (boolean xCf : new boolean[] {false, true}) {
            for (boolean yCf : new boolean[] {false, true}) {
                for (int batch : new int[] {1, 3}) {
                    Tensor x = Tensor.randn(rng, 1f, xCf ? new int[] {batch, 13, 7} : new int[] {batch, 7, 13}).name("x");
                    GradCheck.check("forwardLayout xCf=" + xCf + " yCf=" + yCf + " B=" + batch,
                            () -> Linear.forwardLayout(x, xCf, w, 2, 7, b, yCf), x, w, b);
                }
            }
        }
        // two row ranges of one weight accumulate into disjoint gradient rows
        Tensor x = Tensor.randn(rng, 1f, 2, 13, 7).name("x");
        GradCheck.check("forwardLayout two ranges", () -> org.mambavision.engine.ops.Arith.add(
                Linear.forwardLayout(x, true, w, 0, 4, null, true), Linear.forwardLayout(x, true, w, 4, 8, b, true)), x, w, b);
    }

    @Test
    void forwardLayoutRejectsBadShapes() {
        Tensor w = Tensor.zeros(9, 13);
        assertThrows(IllegalArgumentException.class, () -> Linear.forwardLayout(Tensor.zeros(2, 7, 12), false, w, 0, 9, null, true));
        assertThrows(IllegalArgumentException.class, () -> Linear.forwardLayout(Tensor.zeros(2, 7, 13), true, w, 0, 9, null, true));
        assertThrows(IllegalArgumentException.class, () -> Linear.forwardLayout(Tensor.zeros(2, 13, 7), true, w, 3, 10, null, true));
    }
}
