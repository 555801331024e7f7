package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class CrossEntropyTest {
    @Test
    void handComputedWithSmoothing() {
        // logits (2, 3), labels {0, 2}, eps 0.1
        Tensor x = Tensor.of(new float[] {1f, 2f, 3f, 0.5f, -1f, 0f}, 2, 3);
        int[] labels = {0, 2};
        double loss = 0;
        for (int i = 0; i < 2; i++) {
            double lse = 0;
            for (int j = 0; j < 3; j++) lse += Math.exp(x.data[i * 3 + j]);
            lse = Math.log(lse);
            double nll = lse - x.data[i * 3 + labels[i]];
            double meanNll = 0;
            for (int j = 0; j < 3; j++) meanNll += (lse - x.data[i * 3 + j]) / 3;
            loss += (0.9 * nll + 0.1 * meanNll) / 2;
        }
        Tensor out = CrossEntropy.forward(x, labels, 0.1f);
        assertEquals(0, out.rank());
        assertEquals(loss, out.item(), 1e-6);
        // known value: row 0 lse = 3.40760596, nll = 2.40760596, mean nll = 1.40760596 -> 2.30760596
        assertEquals(2.3076059, CrossEntropy.forward(Tensor.of(new float[] {1f, 2f, 3f}, 1, 3), new int[] {0}, 0.1f).item(), 1e-6);
        assertEquals(2.4076059, CrossEntropy.forward(Tensor.of(new float[] {1f, 2f, 3f}, 1, 3), new int[] {0}, 0f).item(), 1e-6);
    }

    @Test
    void gradients() {
        Tensor x = TestUtil.randn(1, 5, 33);
        int[] labels = {0, 32, 7, 7, 13};
        GradCheck.check("CrossEntropy", () -> CrossEntropy.forward(x, labels, 0.1f), x);
        GradCheck.check("CrossEntropy no smoothing", () -> CrossEntropy.forward(x, labels, 0f), x);
        Tensor t = Softmax.forward(TestUtil.randn(2, 5, 33));
        GradCheck.check("CrossEntropy soft", () -> CrossEntropy.forwardSoft(x, t), x);
        assertNull(t.grad);
    }

    @Test
    void softTargetsEqualHardLabelsWhenOneHotSmoothed() {
        Tensor x = TestUtil.randn(3, 4, 10);
        int[] labels = {3, 0, 9, 5};
        float eps = 0.1f;
        Tensor t = Tensor.zeros(4, 10);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 10; j++) t.set(eps / 10 + (j == labels[i] ? 1 - eps : 0), i, j);
        }
        assertEquals(CrossEntropy.forward(x, labels, eps).item(), CrossEntropy.forwardSoft(x, t).item(), 1e-6);
    }

    @Test
    void badLabels() {
        Tensor x = Tensor.zeros(2, 3);
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, new int[] {0, 3}, 0f));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, new int[] {-1, 0}, 0f));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(x, new int[] {0}, 0f));
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forwardSoft(x, Tensor.zeros(2, 4)));
    }
}
