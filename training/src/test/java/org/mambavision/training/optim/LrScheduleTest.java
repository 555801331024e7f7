package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LrScheduleTest {
    @Test
    void cosineWithWarmupAtKeyIterations() {
        // MambaVision-like: base 5e-3, min 5e-6, warmup from 1e-6 over 100 iterations, cosine to 1000.
        CosineWarmup s = new CosineWarmup(5e-3, 5e-6, 1e-6, 100, 1000);
        assertEquals(1e-6, s.lr(0), 1e-15);
        assertEquals(1e-6 + 50 * (5e-3 - 1e-6) / 100, s.lr(50), 1e-15);
        assertEquals(1e-6 + 99 * (5e-3 - 1e-6) / 100, s.lr(99), 1e-15);
        // timm (no warmup prefix): after warmup the cosine is evaluated at the iteration itself.
        assertEquals(5e-6 + 0.5 * (5e-3 - 5e-6) * (1 + Math.cos(Math.PI * 100 / 1000)), s.lr(100), 1e-15);
        assertEquals((5e-3 + 5e-6) / 2, s.lr(500), 1e-15);
        assertEquals(5e-6, s.lr(1000), 1e-18);
        assertEquals(5e-6, s.lr(1234), 1e-18); // cool-down
        for (long t = 101; t < 1000; t++) assertTrue(s.lr(t) < s.lr(t - 1), "decreasing after warmup at " + t);

        CosineWarmup prefix = new CosineWarmup(1.0, 0.0, 0.0, 100, 1100, true);
        assertEquals(1.0, prefix.lr(100), 1e-15);
        assertEquals(0.5, prefix.lr(600), 1e-15);
        assertEquals(0.0, prefix.lr(1100), 1e-15);

        CosineWarmup noWarmup = new CosineWarmup(1.0, 0.1, 0.0, 0, 10);
        assertEquals(1.0, noWarmup.lr(0), 1e-15);
        assertEquals(0.55, noWarmup.lr(5), 1e-15);
    }

    @Test
    void stepAndConstant() {
        StepLr s = new StepLr(0.1, 30, 0.1, 0.01, 10);
        assertEquals(0.01, s.lr(0), 1e-15);
        assertEquals(0.01 + 5 * 0.09 / 10, s.lr(5), 1e-15);
        assertEquals(0.1, s.lr(10), 1e-15);
        assertEquals(0.1, s.lr(29), 1e-15);
        assertEquals(0.01, s.lr(30), 1e-15);
        assertEquals(0.001, s.lr(65), 1e-15);

        ConstantLr c = new ConstantLr(0.2, 0.0, 4);
        assertEquals(0.0, c.lr(0), 1e-15);
        assertEquals(0.1, c.lr(2), 1e-15);
        assertEquals(0.2, c.lr(4), 1e-15);
        assertEquals(0.2, c.lr(1_000_000), 1e-15);
        assertEquals(0.3, new ConstantLr(0.3).lr(0), 0.0);
    }

    @Test
    void factoryAndErrors() {
        assertEquals(new CosineWarmup(1, 0.1, 0, 5, 50), LrSchedules.create("Cosine", 1, 0.1, 0, 5, 50, 0, 0));
        assertEquals(new StepLr(1, 10, 0.5, 0, 5), LrSchedules.create("step", 1, 0.1, 0, 5, 50, 10, 0.5));
        assertEquals(new ConstantLr(1, 0, 5), LrSchedules.create("constant", 1, 0.1, 0, 5, 50, 0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedules.create("plateau", 1, 0, 0, 0, 10, 1, 1));
        assertTrue(e.getMessage().contains("cosine, step, constant"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CosineWarmup(1, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new StepLr(1, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new ConstantLr(1).lr(-1));
    }
}
