package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void onEachThreadRunsEveryIndexOnceEachOnAThreadOfItsOwn() {
        int n = Parallel.threads();
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        Thread[] ranOn = new Thread[n];
        boolean[] nestedInline = new boolean[n];
        for (int round = 0; round < 50; round++) { // the pinning must hold however the workers happen to wake
            Parallel.onEachThread(t -> {
                runs.incrementAndGet(t);
                ranOn[t] = Thread.currentThread();
                nestedInline[t] = Parallel.available() == 1;
            });
            assertSame(Thread.currentThread(), ranOn[0], "task 0 runs on the caller");
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < i; j++) assertNotSame(ranOn[i], ranOn[j], "tasks " + i + " and " + j + " on one thread");
                assertTrue(nestedInline[i], "inside a task, kernels see one thread");
            }
        }
        for (int i = 0; i < n; i++) assertEquals(50, runs.get(i));
        assertEquals(n, Parallel.available(), "outside a parallel region every thread is available");
    }

    @Test
    void onEachThreadPassesOnAFailureAndStaysUsable() {
        int last = Parallel.threads() - 1;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.onEachThread(t -> {
            if (t == last) throw new IllegalStateException("task " + t + " failed");
        }));
        assertEquals("task " + last + " failed", e.getMessage());
        AtomicIntegerArray runs = new AtomicIntegerArray(Parallel.threads());
        Parallel.onEachThread(runs::incrementAndGet);
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i));
    }
}
