package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class WindowsTest {
    @Test
    void partitionMatchesIndexMapping() {
        int b = 2, c = 3, h = 6, w = 9, ws = 3, nh = h / ws, nw = w / ws;
        SplittableRandom rng = new SplittableRandom(1);
        Tensor x = Tensor.randn(rng, 1f, b, c, h, w);
        Tensor win = Windows.partition(x, ws);
        assertArrayEquals(new int[] {b * nh * nw, ws * ws, c}, win.shape());
        for (int bi = 0; bi < b; bi++) for (int wh = 0; wh < nh; wh++) for (int ww = 0; ww < nw; ww++)
            for (int i = 0; i < ws; i++) for (int j = 0; j < ws; j++) for (int ch = 0; ch < c; ch++)
                assertEquals(x.get(bi, ch, wh * ws + i, ww * ws + j), win.get((bi * nh + wh) * nw + ww, i * ws + j, ch));
    }

    @Test
    void partitionHandExample() {
        // One 4x4 image with two channels; channel 1 = channel 0 + 100. Window 1 is the top-right 2x2 block.
        float[] d = new float[32];
        for (int i = 0; i < 16; i++) {
            d[i] = i;
            d[16 + i] = 100 + i;
        }
        Tensor win = Windows.partition(Tensor.of(d, 1, 2, 4, 4), 2);
        float[] window1 = new float[8];
        System.arraycopy(win.data, 8, window1, 0, 8);
        assertArrayEquals(new float[] {2, 102, 3, 103, 6, 106, 7, 107}, window1);
    }

    @Test
    void reverseInvertsPartition() {
        SplittableRandom rng = new SplittableRandom(2);
        Tensor x = Tensor.randn(rng, 1f, 3, 5, 14, 7);
        assertArrayEquals(x.data, Windows.reverse(Windows.partition(x, 7), 7, 14, 7).data);
        Tensor win = Tensor.randn(rng, 1f, 2 * 3 * 2, 4, 5);
        Tensor back = Windows.partition(Windows.reverse(win, 2, 6, 4), 2);
        assertArrayEquals(win.shape(), back.shape());
        assertArrayEquals(win.data, back.data);
    }

    @Test
    void gradients() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 6, 4).name("x");
        GradCheck.check("Windows.partition", () -> Windows.partition(x, 2), x);
        Tensor win = Tensor.randn(rng, 1f, 2 * 2 * 3, 4, 5).name("windows");
        GradCheck.check("Windows.reverse", () -> Windows.reverse(win, 2, 4, 6), win);
    }

    @Test
    void errorsNameOpAndShape() {
        var e = assertThrows(IllegalArgumentException.class, () -> Windows.partition(Tensor.zeros(1, 2, 6, 5), 3));
        assertTrue(e.getMessage().contains("partition") && e.getMessage().contains("[1, 2, 6, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Windows.reverse(Tensor.zeros(5, 4, 2), 2, 4, 4));
        assertTrue(e.getMessage().contains("reverse") && e.getMessage().contains("[5, 4, 2]"), e.getMessage());
    }
}
