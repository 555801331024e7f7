package org.mambavision.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether other threads want the machine's CPUs: the kernel's count of runnable threads (Linux {@code /proc/loadavg},
 * the "running" of its fourth field, this process's threads included) above the number of online CPUs in five samples
 * 10 ms apart; then for a second after. Where the files cannot be read (not Linux), never.
 *
 * <p>{@link Parallel}'s idle workers spin rather than park while the CPUs are not contended: waking a parked thread
 * costs more than the spin. Under contention spinning costs more than it saves: the scheduler counts the spinner's CPU
 * time against it and then runs the other process rather than it when it has work. MambaVision-T at batch 1 beside
 * one busy process on 2 vCPUs, the two alternating within one JVM: 42 ms with this, 73-76 ms spinning regardless; on
 * idle CPUs the same either way (25.8-26.1 ms). Two samples in a row instead of five let passing threads (a JIT or GC
 * thread) switch spinning off on idle CPUs, 3-5% slower there.
 */
final class CpuContention {
    private static final Path LOADAVG = Path.of("/proc/loadavg");
    private static final long SAMPLE_NANOS = 10_000_000;
    private static final long HOLD_NANOS = 1_000_000_000L;
    /** Samples in a row that must find the CPUs oversubscribed: a competitor that lasts, not a passing thread. */
    private static final int STRIKES = 5;
    private static final int CPUS = onlineCpus();
    private static volatile boolean readable = Files.isReadable(LOADAVG);
    private static volatile long nextSample = System.nanoTime();
    private static volatile long contendedUntil = System.nanoTime() - 1;
    private static int strikes;

    private CpuContention() {}

    /** Whether the CPUs were found contended within the last second. */
    static boolean contended(long now) {
        return now - contendedUntil < 0;
    }

    /** Samples the runnable threads if 10 ms have passed since the last sample; cheap otherwise. */
    static void sample(long now) {
        if (!readable || now - nextSample < 0) return;
        synchronized (CpuContention.class) {
            if (now - nextSample < 0) return;
            nextSample = now + SAMPLE_NANOS;
            int running = runnableThreads();
            if (running < 0) {
                readable = false;
                return;
            }
            strikes = running > CPUS ? strikes + 1 : 0;
            if (strikes >= STRIKES) contendedUntil = now + HOLD_NANOS;
        }
    }

    /** The running count of /proc/loadavg ("0.52 0.58 0.59 3/467 12345"), or -1. */
    static int runnableThreads() {
        try {
            return parseRunnable(new String(Files.readAllBytes(LOADAVG), java.nio.charset.StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static int parseRunnable(String loadavg) {
        String[] f = loadavg.trim().split("\\s+");
        if (f.length < 4 || f[3].indexOf('/') < 1) return -1;
        return Integer.parseInt(f[3].substring(0, f[3].indexOf('/')));
    }

    /** CPUs online ("0-3,8-11" in /sys/devices/system/cpu/online), the machine's, as /proc/loadavg counts; else the JVM's count. */
    private static int onlineCpus() {
        try {
            int n = parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/online")));
            if (n > 0) return n;
        } catch (IOException | RuntimeException e) {
            // not Linux: the JVM's count
        }
        return Runtime.getRuntime().availableProcessors();
    }

    static int parseCpuList(String list) {
        int n = 0;
        for (String part : list.trim().split(",")) {
            if (part.isEmpty()) continue;
            int dash = part.indexOf('-');
            n += dash < 0 ? 1 : Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
        }
        return n;
    }
}
