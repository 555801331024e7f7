package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;

/** Activations and residuals fused into a product's output give the bits of the separate ops. */
class FusedInferenceTest {
    private static final Activations.Function[] ACTS = {null, Activations.Function.RELU, Activations.Function.GELU, Activations.Function.GELU_TANH};

    @Test
    void linearWithActivationMatchesTheTwoOps() {
        SplittableRandom rng = new SplittableRandom(3);
        // edge tiles, several K blocks, a split-K product (few rows, long K), a parallel one (outputs up to 2^18 floats
        // get the activation in a pass after the product), and outputs above that (the activation on each finished tile)
        int[][] shapes = {{1, 5, 7}, {13, 50, 200}, {49, 64, 2560}, {600, 200, 320}, {300, 1000, 64}, {70, 4000, 40}};
        for (int[] s : shapes) {
            Tensor x = Tensor.randn(rng, 1f, s[0], s[2]), w = Tensor.randn(rng, 0.1f, s[1], s[2]), b = Tensor.randn(rng, 1f, s[1]);
            Gemm.PackedB packed = Gemm.packB(true, s[1], s[2], w.data, 0, s[2]);
            for (Activations.Function act : ACTS) {
                try (var g = Tape.noGrad()) {
                    Tensor plain = Linear.forward(x, w, b);
                    Tensor expected = act == null ? plain : act.apply(plain);
                    assertArrayEquals(expected.data, Linear.forward(x, w, b, null, act).data, () -> java.util.Arrays.toString(s) + " " + act);
                    assertArrayEquals(expected.data, Linear.forward(x, w, b, packed, act).data, () -> "packed " + java.util.Arrays.toString(s) + " " + act);
                }
            }
        }
    }

    @Test
    void convolutionWithActivationAndResidualMatchesTheOps() {
        SplittableRandom rng = new SplittableRandom(4);
        // {n, cin, h, w, cout, k, stride, padding}: 3x3 (grid path, single and grouped images, strided), 1x1 and patchify fallbacks
        int[][] shapes = {{2, 5, 9, 11, 7, 3, 1, 1}, {5, 4, 7, 7, 6, 3, 1, 1}, {3, 6, 10, 9, 8, 3, 2, 1}, {2, 6, 8, 8, 5, 1, 1, 0}, {2, 3, 8, 8, 4, 4, 4, 0}};
        for (int[] s : shapes) {
            Tensor x = Tensor.randn(rng, 1f, s[0], s[1], s[2], s[3]), w = Tensor.randn(rng, 0.2f, s[4], s[1], s[5], s[5]), b = Tensor.randn(rng, 1f, s[4]);
            for (Activations.Function act : ACTS) {
                for (boolean withResidual : new boolean[] {false, true}) {
                    try (var g = Tape.noGrad()) {
                        Tensor y = Conv2d.forward(x, w, b, s[6], s[7]);
                        Tensor residual = withResidual ? Tensor.randn(rng, 1f, y.shape()) : null;
                        Tensor expected = act == null ? y : act.apply(y);
                        if (residual != null) expected = Arith.add(residual, expected);
                        Tensor got = Conv2d.forwardFused(x, w, b, s[6], s[7], act, residual);
                        assertArrayEquals(expected.data, got.data, () -> java.util.Arrays.toString(s) + " " + act + " residual " + withResidual);
                    }
                }
            }
        }
        Tensor x = Tensor.randn(rng, 1f, 1, 2, 5, 5), w = Tensor.randn(rng, 1f, 3, 2, 3, 3);
        try (var g = Tape.noGrad()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2d.forwardFused(x, w, null, 1, 1, null, Tensor.zeros(1, 3, 4, 4)));
            assertTrue(e.getMessage().contains("residual"), e.getMessage());
        }
    }

    /** With a tape the fused entry points compose the recorded ops, so gradients flow as usual. */
    @Test
    void recordedPassesComposeTheOps() {
        SplittableRandom rng = new SplittableRandom(5);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 6, 6).requiresGrad(true), w = Tensor.randn(rng, 0.2f, 4, 3, 3, 3).requiresGrad(true);
        Tensor residual = Tensor.randn(rng, 1f, 2, 4, 6, 6).requiresGrad(true);
        Tensor y = Conv2d.forwardFused(x, w, null, 1, 1, Activations.Function.GELU_TANH, residual);
        Tape.backward(y, y.data.clone());
        assertNotNull(x.grad);
        assertNotNull(w.grad);
        assertNotNull(residual.grad);
        Tensor a = Tensor.randn(rng, 1f, 5, 8).requiresGrad(true), lw = Tensor.randn(rng, 0.2f, 6, 8).requiresGrad(true);
        Tensor z = Linear.forward(a, lw, null, null, Activations.Function.GELU);
        Tape.backward(z, z.data.clone());
        assertNotNull(a.grad);
        assertNotNull(lw.grad);
    }
}
