package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class DropPathTest {
    @Test
    void identityWhenNotTrainingOrZeroRate() {
        Tensor x = TestUtil.randn(1, 4, 5);
        assertSame(x, DropPath.forward(x, 0.3f, false, new SplittableRandom(1)));
        assertSame(x, DropPath.forward(x, 0f, true, new SplittableRandom(1)));
        assertSame(x, Dropout.forward(x, 0.3f, false, new SplittableRandom(1)));
        assertSame(x, Dropout.forward(x, 0f, true, new SplittableRandom(1)));
    }

    @Test
    void dropPathZeroesWholeSamplesAndPreservesMean() {
        int batch = 2000, per = 3 * 7;
        Tensor x = Tensor.full(1f, batch, 3, 7);
        float p = 0.3f;
        Tensor y = DropPath.forward(x, p, true, new SplittableRandom(42));
        int dropped = 0;
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            float first = y.data[b * per];
            for (int i = 0; i < per; i++) assertEquals(first, y.data[b * per + i], "sample " + b + " is not uniform");
            if (first == 0f) dropped++;
            else assertEquals(1f / (1 - p), first, 1e-6);
            sum += first;
        }
        // binomial(2000, 0.3): sd ~ 20.5
        assertEquals(600, dropped, 100);
        assertEquals(1.0, sum / batch, 0.1);
        // same seed, same mask
        assertArrayEquals(y.data, DropPath.forward(x, p, true, new SplittableRandom(42)).data);
    }

    @Test
    void dropoutStatistics() {
        Tensor x = Tensor.full(2f, 100, 1000);
        Tensor y = Dropout.forward(x, 0.25f, true, new SplittableRandom(3));
        int zeros = 0;
        double sum = 0;
        for (float v : y.data) {
            if (v == 0f) zeros++;
            else assertEquals(2f / 0.75f, v, 1e-6);
            sum += v;
        }
        assertEquals(0.25, zeros / 1e5, 0.01);
        assertEquals(2.0, sum / 1e5, 0.02);
        assertEquals(0f, Dropout.forward(x, 1f, true, new SplittableRandom(3)).data[17]);
    }

    @Test
    void gradientsFollowTheMask() {
        Tensor x = TestUtil.randn(1, 6, 5, 7);
        GradCheck.check("DropPath", () -> DropPath.forward(x, 0.5f, true, new SplittableRandom(9)), x);
        GradCheck.check("Dropout", () -> Dropout.forward(x, 0.5f, true, new SplittableRandom(9)), x);
    }
}
