package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void reshapeSharesDataAndRoutesGradient() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
        Tensor v = x.reshape(3, -1);
        assertArrayEquals(new int[] {3, 2}, v.shape());
        assertSame(x.data, v.data);
        Tape.backward(v, new float[] {1, 2, 3, 4, 5, 6});
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, x.grad);
        assertEquals(0, Tape.size());
    }

    @Test
    void reshapeRejectsBadShapeNamingBoth() {
        Tensor x = Tensor.zeros(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.reshape(4, 2));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
    }

    @Test
    void noGradRecordsNothing() {
        Tensor x = Tensor.zeros(4).requiresGrad(true);
        try (var g = Tape.noGrad()) {
            Tensor y = x.reshape(2, 2);
            assertFalse(y.requiresGrad());
        }
        assertEquals(0, Tape.size());
        assertTrue(Tape.gradEnabled());
    }

    @Test
    void parallelRunsEveryTaskOnce() {
        int n = 10_000;
        int[] hits = new int[n];
        Parallel.forEach(n, i -> hits[i]++);
        for (int h : hits) assertEquals(1, h);
        AtomicLong sum = new AtomicLong();
        Parallel.forRange(1001, 10, (s, e) -> {
            long local = 0;
            for (int i = s; i < e; i++) local += i;
            sum.addAndGet(local);
        });
        assertEquals(1000L * 1001 / 2, sum.get());
    }

    @Test
    void parallelPropagatesFailure() {
        assertThrows(IllegalStateException.class, () -> Parallel.forEach(8, i -> {
            if (i == 5) throw new IllegalStateException("boom");
        }));
        // the pool still works afterwards
        int[] hits = new int[16];
        Parallel.forEach(16, i -> hits[i] = 1);
        for (int h : hits) assertEquals(1, h);
    }
}
