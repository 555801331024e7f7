package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tensor;

class PadTest {
    @Test
    void zeroPadPlacesInputAndZeros() {
        SplittableRandom rng = new SplittableRandom(1);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 5, 7);
        Tensor y = Pad.zeroPad2d(x, 1, 2, 3, 4);
        assertArrayEquals(new int[] {2, 3, 12, 10}, y.shape());
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int i = 0; i < 12; i++) for (int j = 0; j < 10; j++) {
            boolean inside = i >= 3 && i < 8 && j >= 1 && j < 8;
            assertEquals(inside ? x.get(n, c, i - 3, j - 1) : 0f, y.get(n, c, i, j));
        }
        assertSame(x, Pad.zeroPad2d(x, 0, 0, 0, 0));
    }

    @Test
    void cropTakesRegion() {
        SplittableRandom rng = new SplittableRandom(2);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 9, 8);
        Tensor y = Pad.crop2d(x, 2, 1, 5, 6);
        assertArrayEquals(new int[] {2, 3, 5, 6}, y.shape());
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int i = 0; i < 5; i++) for (int j = 0; j < 6; j++)
            assertEquals(x.get(n, c, i + 2, j + 1), y.get(n, c, i, j));
        // crop undoes pad
        Tensor back = Pad.crop2d(Pad.zeroPad2d(x, 0, 3, 0, 5), 0, 0, 9, 8);
        assertArrayEquals(x.data, back.data);
    }

    @Test
    void gradients() {
        SplittableRandom rng = new SplittableRandom(3);
        Tensor x = Tensor.randn(rng, 1f, 2, 3, 5, 7).name("x");
        GradCheck.check("Pad.zeroPad2d", () -> Pad.zeroPad2d(x, 1, 2, 0, 3), x);
        GradCheck.check("Pad.crop2d", () -> Pad.crop2d(x, 1, 2, 3, 4), x);
    }

    @Test
    void errorsNameOpAndShape() {
        Tensor x = Tensor.zeros(1, 2, 4, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> Pad.crop2d(x, 1, 0, 4, 4));
        assertTrue(e.getMessage().contains("crop2d") && e.getMessage().contains("[1, 2, 4, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Pad.zeroPad2d(Tensor.zeros(2, 4, 4), 1, 1, 1, 1));
        assertTrue(e.getMessage().contains("zeroPad2d") && e.getMessage().contains("[2, 4, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Pad.zeroPad2d(x, -1, 0, 0, 0));
    }
}
