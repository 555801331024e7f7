package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The runnable-thread count and CPU list are read as the kernel writes them, and busy threads beyond the CPUs are seen. */
class CpuContentionTest {
    private static volatile long counted;

    @Test
    void parsesLoadavgAndCpuLists() {
        assertEquals(3, CpuContention.parseRunnable("0.52 0.58 0.59 3/467 12345\n"));
        assertEquals(12, CpuContention.parseRunnable("7.00 6.10 5.00 12/1024 99"));
        assertEquals(-1, CpuContention.parseRunnable("0.52 0.58"));
        assertEquals(2, CpuContention.parseCpuList("0-1\n"));
        assertEquals(1, CpuContention.parseCpuList("0"));
        assertEquals(8, CpuContention.parseCpuList("0-3,8-11"));
        assertEquals(5, CpuContention.parseCpuList("0,2,4-6"));
    }

    @Test
    void threadsBeyondTheCpusAreContentionWithinASecond() throws Exception {
        // Linux only: elsewhere the engine never sees contention and spins as before
        assumeTrue(Files.isReadable(Path.of("/proc/loadavg")), "no /proc/loadavg (not Linux)");
        int cpus = CpuContention.parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> busy = new ArrayList<>();
        for (int i = 0; i < cpus + 1; i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (!stop.get()) x++;
                counted = x; // keeps the loop
            });
            t.setDaemon(true);
            t.start();
            busy.add(t);
        }
        try {
            boolean seen = false;
            long end = System.nanoTime() + 3_000_000_000L;
            while (!seen && System.nanoTime() < end) {
                long now = System.nanoTime();
                CpuContention.sample(now);
                seen = CpuContention.contended(now);
                Thread.sleep(2);
            }
            assertTrue(seen, "with " + (cpus + 1) + " busy threads on " + cpus + " CPUs the CPUs are contended");
        } finally {
            stop.set(true);
            for (Thread t : busy) t.join();
        }
    }
}
