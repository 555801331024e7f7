package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

class ActivationsTest {
    private static final double[][] ERF = {
        {0.1, 0.1124629160182849}, {0.5, 0.52049987781304654}, {0.9, 0.79690821242283214},
        {0.95, 0.82089080727327792}, {1.0, 0.84270079294971487}, {1.5, 0.96610514647531073},
        {2.0, 0.99532226501895273}, {3.0, 0.99997790950300141}, {3.5, 0.99999925690162766},
        {-0.7, -0.67780119383741844}, {-2.5, -0.99959304798255504}};

    @Test
    void erfMatchesKnownValuesTo1e7() {
        float[] xs = new float[ERF.length];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) ERF[i][0];
        for (int i = 0; i < ERF.length; i++) {
            // the reference at the float argument (the inputs are not exact in float)
            double want = TestUtil.erf(xs[i]);
            assertEquals(ERF[i][1], TestUtil.erf(ERF[i][0]), 1e-15, "test reference erf");
            assertEquals(want, VecMath.erf(xs[i]), 1e-7, "scalar erf(" + xs[i] + ")");
        }
        // vector version over a dense grid, against the double reference
        int n = 24001;
        float[] grid = new float[n];
        for (int i = 0; i < n; i++) grid[i] = -6f + 12f * i / (n - 1);
        float[] got = new float[n];
        int len = VecMath.S.length(), i = 0;
        for (; i + len <= n; i += len) VecMath.erf(FloatVector.fromArray(VecMath.S, grid, i)).intoArray(got, i);
        for (; i < n; i++) got[i] = VecMath.erf(grid[i]);
        double maxErr = 0;
        for (int j = 0; j < n; j++) maxErr = Math.max(maxErr, Math.abs(got[j] - TestUtil.erf(grid[j])));
        assertTrue(maxErr < 1e-7, "vector erf max error " + maxErr);
        // 1 + erf keeps relative accuracy in the negative tail
        assertEquals(1 - TestUtil.erf(4.0), VecMath.onePlusErf(-4f), 1e-4 * (1 - TestUtil.erf(4.0)));
    }

    @Test
    void knownValues() {
        assertEquals(0.8413447f, Activations.gelu(Tensor.of(new float[] {1f}, 1)).data[0], 1e-7);
        assertEquals(0.8411920f, Activations.geluTanh(Tensor.of(new float[] {1f}, 1)).data[0], 1e-7);
        assertEquals(30f, Activations.softplus(Tensor.of(new float[] {30f}, 1)).data[0]);
        assertEquals(-0.1586553f, Activations.gelu(Tensor.of(new float[] {-1f}, 1)).data[0], 1e-7);
        assertEquals(0.7310586f, Activations.silu(Tensor.of(new float[] {1f}, 1)).data[0], 1e-7);
        assertEquals(0.6931472f, Activations.softplus(Tensor.of(new float[] {0f}, 1)).data[0], 1e-7);
    }

    private static void checkForward(String name, UnaryOperator<Tensor> op, DoubleUnaryOperator ref, double rel, double abs) {
        // 3 x 5 x 7 = 105 values: vector body plus a masked tail; spread over [-8, 8] plus the PyTorch softplus threshold
        Tensor x = TestUtil.randn(7, 3, 5, 7);
        for (int i = 0; i < x.numel(); i++) x.data[i] *= 3f;
        x.data[0] = 20f;
        x.data[1] = 20.5f;
        x.data[2] = -8f;
        x.data[3] = 0f;
        Tensor y = op.apply(x);
        double[] want = new double[x.numel()];
        for (int i = 0; i < want.length; i++) want[i] = ref.applyAsDouble(x.data[i]);
        TestUtil.assertClose(name, want, y.data, rel, abs);
        // a big tensor takes the multithreaded path and must give the same values
        Tensor big = TestUtil.randn(8, 70001);
        Tensor yb = op.apply(big);
        double[] wantBig = new double[big.numel()];
        for (int i = 0; i < wantBig.length; i++) wantBig[i] = ref.applyAsDouble(big.data[i]);
        TestUtil.assertClose(name + " (big)", wantBig, yb.data, rel, abs);
    }

    @Test
    void forwardMatchesDoubleReference() {
        checkForward("gelu", Activations::gelu, x -> 0.5 * x * (1 + TestUtil.erf(x / Math.sqrt(2))), 1e-6, 1e-7);
        double beta = Math.sqrt(2 / Math.PI);
        checkForward("geluTanh", Activations::geluTanh, x -> 0.5 * x * (1 + Math.tanh(beta * (x + 0.044715 * x * x * x))), 1e-6, 1e-7);
        checkForward("silu", Activations::silu, x -> x / (1 + Math.exp(-x)), 1e-6, 1e-7);
        checkForward("relu", Activations::relu, x -> Math.max(x, 0), 0, 0);
        checkForward("softplus", Activations::softplus, x -> x > 20 ? x : Math.log1p(Math.exp(x)), 1e-6, 1e-7);
        checkForward("exp", Activations::exp, Math::exp, 1e-6, 0);
    }

    @Test
    void gradients() {
        String[] names = {"gelu", "geluTanh", "silu", "relu", "softplus", "exp"};
        @SuppressWarnings("unchecked")
        UnaryOperator<Tensor>[] ops = new UnaryOperator[] {
            (UnaryOperator<Tensor>) Activations::gelu, (UnaryOperator<Tensor>) Activations::geluTanh,
            (UnaryOperator<Tensor>) Activations::silu, (UnaryOperator<Tensor>) Activations::relu,
            (UnaryOperator<Tensor>) Activations::softplus, (UnaryOperator<Tensor>) Activations::exp};
        for (int k = 0; k < ops.length; k++) {
            Tensor x = TestUtil.randn(11 + k, 3, 5, 7);
            for (int i = 0; i < x.numel(); i++) x.data[i] *= 2f;
            if (k == 3) { // keep relu probes away from the kink
                for (int i = 0; i < x.numel(); i++) if (Math.abs(x.data[i]) < 0.05f) x.data[i] = 0.5f;
            }
            UnaryOperator<Tensor> op = ops[k];
            GradCheck.check(names[k], () -> op.apply(x), 1e-2, 1e-2, x);
        }
        // softplus above the threshold has slope 1
        Tensor x = Tensor.of(new float[] {25f, 30f, -30f}, 3);
        GradCheck.check("softplus tail", () -> Activations.softplus(x), 1e-2, 1e-2, x);
    }

    /**
     * With a tape, GELU keeps Phi(x) from its forward for the backward: the output has the bits of the
     * tape-free forward, and the gradient matches g * (Phi(x) + x phi(x)) in double. Sizes with and without
     * a tail, with a fresh gradient and accumulating into one.
     */
    @Test
    void geluWithTapeKeepsForwardBitsAndGradient() {
        for (int n : new int[] {16 * 1024 + 5, 40000, 7}) {
            Tensor x = TestUtil.randn(n, n);
            for (int i = 0; i < n; i++) x.data[i] *= 3f;
            Tensor plain;
            try (var ng = org.mambavision.engine.Tape.noGrad()) { plain = Activations.gelu(x); }
            x.requiresGrad(true);
            for (int round = 0; round < 2; round++) { // round 1 accumulates onto round 0's gradient
                Tensor y = Activations.gelu(x);
                assertArrayEquals(plain.data, y.data, "forward bits, n=" + n);
                float[] up = TestUtil.randn(n + 1, n).data;
                float[] before = x.grad == null ? new float[n] : x.grad.clone();
                org.mambavision.engine.Tape.backward(y, up);
                for (int i = 0; i < n; i++) {
                    double xi = x.data[i], cdf = 0.5 * (1 + TestUtil.erf(xi / Math.sqrt(2)));
                    double d = cdf + xi * Math.exp(-0.5 * xi * xi) / Math.sqrt(2 * Math.PI);
                    assertEquals(before[i] + up[i] * d, x.grad[i], 1e-5 * (1 + Math.abs(before[i] + up[i] * d)), "n=" + n + " at " + i);
                }
            }
        }
    }
}
