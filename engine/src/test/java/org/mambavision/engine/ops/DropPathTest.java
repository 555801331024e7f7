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

    /**
     * The fused residual x + drop_path(branch) against the two ops it replaces: the same output bits, the same
     * gradients (fresh and accumulating), and the same draws from the generator. A sample size with a
     * vector tail (3 x 7 = 21) and one without (4 x 16).
     */
    @Test
    void residualAddMatchesDropPathThenAdd() {
        for (int[] shape : new int[][] {{9, 3, 7}, {5, 4, 16}}) {
            float[][] results = new float[2][];
            float[][] gx = new float[2][], gb = new float[2][];
            long[] next = new long[2];
            for (int fused = 0; fused < 2; fused++) {
                Tensor x = TestUtil.randn(3, shape).requiresGrad(true), b = TestUtil.randn(4, shape).requiresGrad(true);
                b.grad = TestUtil.randn(5, shape).data; // b accumulates, x starts fresh
                SplittableRandom rng = new SplittableRandom(11);
                Tensor y = fused == 1 ? DropPath.addForward(x, b, 0.4f, true, rng) : Arith.add(x, DropPath.forward(b, 0.4f, true, rng));
                org.mambavision.engine.Tape.backward(y, TestUtil.randn(6, shape).data);
                results[fused] = y.data;
                gx[fused] = x.grad;
                gb[fused] = b.grad;
                next[fused] = rng.nextLong();
            }
            assertArrayEquals(results[0], results[1]);
            assertArrayEquals(gx[0], gx[1]);
            assertArrayEquals(gb[0], gb[1]);
            assertEquals(next[0], next[1], "the same draws");
        }
        // not training: a plain add
        Tensor x = TestUtil.randn(1, 2, 3), b = TestUtil.randn(2, 2, 3);
        assertArrayEquals(Arith.add(x, b).data, DropPath.addForward(x, b, 0.5f, false, new SplittableRandom(1)).data);
    }
}
