package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class SoftmaxLayerNormTest {
    @Test
    void softmaxMatchesNaiveAndIsStable() {
        Tensor x = TestUtil.randn(1, 3, 5, 33);
        for (int i = 0; i < x.numel(); i++) x.data[i] *= 4;
        x.data[0] = 1000f; // would overflow without the max subtraction
        Tensor y = Softmax.forward(x);
        int c = 33;
        double[] want = new double[x.numel()];
        for (int r = 0; r < x.numel() / c; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < c; j++) m = Math.max(m, x.data[r * c + j]);
            for (int j = 0; j < c; j++) s += Math.exp(x.data[r * c + j] - m);
            for (int j = 0; j < c; j++) want[r * c + j] = Math.exp(x.data[r * c + j] - m) / s;
        }
        TestUtil.assertClose("softmax", want, y.data, 1e-5, 1e-9);
        Tensor z = TestUtil.randn(2, 3, 5, 7);
        GradCheck.check("Softmax", () -> Softmax.forward(z), z);
        Tensor w = TestUtil.randn(3, 2, 33);
        GradCheck.check("Softmax 33", () -> Softmax.forward(w), w);
    }

    private static double[] naiveLayerNorm(Tensor x, Tensor w, Tensor b, float eps) {
        int c = x.dim(-1), rows = x.numel() / c;
        double[] out = new double[x.numel()];
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int j = 0; j < c; j++) m += x.data[r * c + j];
            m /= c;
            for (int j = 0; j < c; j++) v += (x.data[r * c + j] - m) * (x.data[r * c + j] - m);
            v /= c;
            for (int j = 0; j < c; j++) {
                double y = (x.data[r * c + j] - m) / Math.sqrt(v + eps);
                if (w != null) y *= w.data[j];
                if (b != null) y += b.data[j];
                out[r * c + j] = y;
            }
        }
        return out;
    }

    @Test
    void layerNormForward() {
        Tensor x = TestUtil.randn(1, 3, 5, 33), w = TestUtil.randn(2, 33), b = TestUtil.randn(3, 33);
        for (int i = 0; i < x.numel(); i++) x.data[i] = 3 * x.data[i] + 5; // non-zero mean
        TestUtil.assertClose("layernorm", naiveLayerNorm(x, w, b, 1e-5f), LayerNorm.forward(x, w, b, 1e-5f).data, 1e-5, 1e-5);
        TestUtil.assertClose("layernorm no affine", naiveLayerNorm(x, null, null, 1e-5f), LayerNorm.forward(x, null, null, 1e-5f).data, 1e-5, 1e-5);
        Tensor big = TestUtil.randn(4, 64, 196, 80), bw = TestUtil.randn(5, 80);
        TestUtil.assertClose("layernorm big", naiveLayerNorm(big, bw, null, 1e-6f), LayerNorm.forward(big, bw, null, 1e-6f).data, 1e-5, 1e-5);
    }

    @Test
    void layerNormGradients() {
        Tensor x = TestUtil.randn(1, 3, 5, 7).name("x"), w = TestUtil.randn(2, 7).name("w"), b = TestUtil.randn(3, 7).name("b");
        GradCheck.check("LayerNorm", () -> LayerNorm.forward(x, w, b, 1e-5f), x, w, b);
        Tensor x2 = TestUtil.randn(4, 9, 33).name("x"), w2 = TestUtil.randn(5, 33).name("w"), b2 = TestUtil.randn(6, 33).name("b");
        GradCheck.check("LayerNorm 33", () -> LayerNorm.forward(x2, w2, b2, 1e-5f), x2, w2, b2);
        GradCheck.check("LayerNorm no affine", () -> LayerNorm.forward(x2, null, null, 1e-5f), x2);
    }

    @Test
    void layerNormBackwardOnManyRowsMatchesNaive() {
        // enough rows for several parallel chunks, whose dw / db partials are summed
        int rows = 3000, c = 40;
        Tensor x = TestUtil.randn(7, rows, c).requiresGrad(true), w = TestUtil.randn(8, c).requiresGrad(true), b = TestUtil.randn(9, c).requiresGrad(true);
        Tensor g = TestUtil.randn(10, rows, c);
        org.mambavision.engine.Tape.backward(LayerNorm.forward(x, w, b, 1e-5f), g.data);
        double[] gx = new double[rows * c], gw = new double[c], gb = new double[c];
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int j = 0; j < c; j++) m += x.data[r * c + j];
            m /= c;
            for (int j = 0; j < c; j++) v += Math.pow(x.data[r * c + j] - m, 2);
            double rs = 1 / Math.sqrt(v / c + 1e-5);
            double a = 0, bb = 0;
            double[] xh = new double[c], dh = new double[c];
            for (int j = 0; j < c; j++) {
                xh[j] = (x.data[r * c + j] - m) * rs;
                dh[j] = g.data[r * c + j] * w.data[j];
                a += dh[j] / c;
                bb += dh[j] * xh[j] / c;
                gw[j] += g.data[r * c + j] * xh[j];
                gb[j] += g.data[r * c + j];
            }
            for (int j = 0; j < c; j++) gx[r * c + j] = rs * (dh[j] - a - xh[j] * bb);
        }
        TestUtil.assertClose("dx", gx, x.grad, 1e-3, 1e-5);
        TestUtil.assertClose("dw", gw, w.grad, 1e-4, 1e-3);
        TestUtil.assertClose("db", gb, b.grad, 1e-4, 1e-3);
    }

    @Test
    void layerNormShapeError() {
        var e = assertThrows(IllegalArgumentException.class, () -> LayerNorm.forward(Tensor.zeros(2, 8), Tensor.zeros(7), null, 1e-5f));
        assertTrue(e.getMessage().startsWith("LayerNorm") && e.getMessage().contains("[7]") && e.getMessage().contains("[2, 8]"), e.getMessage());
    }
}
