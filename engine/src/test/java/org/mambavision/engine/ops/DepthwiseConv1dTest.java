package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.DepthwiseConv1d.Padding;

class DepthwiseConv1dTest {

    /** Plain loops over an explicitly zero-padded input. */
    private static float[] reference(Tensor x, Tensor w, Tensor bias, int left) {
        int B = x.dim(0), C = x.dim(1), L = x.dim(2), K = w.dim(-1);
        float[] out = new float[B * C * L];
        for (int b = 0; b < B; b++) {
            for (int c = 0; c < C; c++) {
                for (int t = 0; t < L; t++) {
                    double s = bias == null ? 0 : bias.data[c];
                    for (int j = 0; j < K; j++) {
                        int src = t + j - left;
                        if (src >= 0 && src < L) s += (double) w.data[c * K + j] * x.data[(b * C + c) * L + src];
                    }
                    out[(b * C + c) * L + t] = (float) s;
                }
            }
        }
        return out;
    }

    @Test
    void forwardMatchesReference() {
        SplittableRandom rng = new SplittableRandom(1);
        int[][] shapes = {{2, 3, 37}, {1, 5, 1}, {3, 2, 3}, {2, 4, 64}, {1, 3, 2}};
        for (int[] s : shapes) {
            for (int K : new int[] {1, 2, 3, 4, 5}) {
                for (Padding pad : Padding.values()) {
                    for (boolean pytorchLayout : new boolean[] {true, false}) {
                        Tensor x = Tensor.randn(rng, 1f, s);
                        Tensor w = pytorchLayout ? Tensor.randn(rng, 1f, s[1], 1, K) : Tensor.randn(rng, 1f, s[1], K);
                        Tensor bias = K % 2 == 0 ? null : Tensor.randn(rng, 1f, s[1]);
                        int left = pad == Padding.SAME ? (K - 1) / 2 : K - 1;
                        Tensor y = DepthwiseConv1d.forward(x, w, bias, pad);
                        assertArrayEquals(new int[] {s[0], s[1], s[2]}, y.shape());
                        assertArrayEquals(reference(x, w, bias, left), y.data, 1e-5f, java.util.Arrays.toString(s) + " K=" + K + " " + pad);
                    }
                }
            }
        }
    }

    @Test
    void samePaddingPutsTheExtraZeroOnTheRightForEvenK() {
        // K = 2, weights (1, 10): PyTorch 'same' pads 0 left, 1 right -> out[t] = x[t] + 10 x[t+1]
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 1, 3);
        Tensor w = Tensor.of(new float[] {1, 10}, 1, 1, 2);
        assertArrayEquals(new float[] {21, 32, 3}, DepthwiseConv1d.forward(x, w, null, Padding.SAME).data, 0f);
        // causal: out[t] = x[t-1] + 10 x[t]
        assertArrayEquals(new float[] {10, 21, 32}, DepthwiseConv1d.forward(x, w, null, Padding.CAUSAL).data, 0f);
        // K = 3 'same' (the MambaVision mixer): out[t] = w0 x[t-1] + w1 x[t] + w2 x[t+1]
        Tensor w3 = Tensor.of(new float[] {1, 10, 100}, 1, 1, 3);
        assertArrayEquals(new float[] {210, 321, 32}, DepthwiseConv1d.forward(x, w3, null, Padding.SAME).data, 0f);
    }

    @Test
    void gradCheck() {
        SplittableRandom rng = new SplittableRandom(2);
        int[][] shapes = {{2, 3, 7}, {1, 2, 33}, {2, 2, 2}};
        for (int[] s : shapes) {
            for (int K : new int[] {2, 3, 4}) {
                for (Padding pad : Padding.values()) {
                    Tensor x = Tensor.randn(rng, 1f, s).name("x");
                    Tensor w = Tensor.randn(rng, 1f, s[1], 1, K).name("weight");
                    Tensor bias = Tensor.randn(rng, 1f, s[1]).name("bias");
                    GradCheck.check("DepthwiseConv1d " + pad + " K=" + K, () -> DepthwiseConv1d.forward(x, w, bias, pad), x, w, bias);
                }
            }
        }
    }

    @Test
    void backwardSkipsInputsWithoutGradAndAccumulates() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 9).requiresGrad(true);
        Tensor w = Tensor.randn(rng, 1f, 3, 3), bias = Tensor.randn(rng, 1f, 3);
        float[] dy = Tensor.randn(rng, 1f, 2, 3, 9).data;
        Tape.clear();
        Tape.backward(DepthwiseConv1d.forward(x, w, bias, Padding.SAME), dy);
        assertNull(w.grad);
        assertNull(bias.grad);
        float[] first = x.grad.clone();
        Tape.backward(DepthwiseConv1d.forward(x, w, bias, Padding.SAME), dy);
        for (int i = 0; i < first.length; i++) assertEquals(2 * first[i], x.grad[i], 1e-5f);
    }

    @Test
    void rejectsBadShapes() {
        Tensor x = Tensor.zeros(2, 3, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> DepthwiseConv1d.forward(x, Tensor.zeros(4, 1, 3), null, Padding.SAME));
        assertTrue(e.getMessage().contains("DepthwiseConv1d") && e.getMessage().contains("[4, 1, 3]") && e.getMessage().contains("[2, 3, 5]"));
        assertThrows(IllegalArgumentException.class, () -> DepthwiseConv1d.forward(x, Tensor.zeros(3, 2, 3), null, Padding.SAME));
        assertThrows(IllegalArgumentException.class, () -> DepthwiseConv1d.forward(x, Tensor.zeros(3, 3), Tensor.zeros(2), Padding.CAUSAL));
        assertThrows(IllegalArgumentException.class, () -> DepthwiseConv1d.forward(Tensor.zeros(3, 5), Tensor.zeros(3, 3), null, Padding.CAUSAL));
    }
}
