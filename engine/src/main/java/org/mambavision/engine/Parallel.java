package org.mambavision.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * One fixed pool of worker threads shared by every kernel.
 *
 * <p>Size: {@code -Dmv.threads=N}, else the number of available processors. Work is split into
 * tasks that write disjoint outputs, so results do not depend on which thread ran which task.
 * Reductions across tasks go through per-task partials summed in task order, so they are
 * deterministic for a given thread count. A call made from inside a parallel region runs inline.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1, SystemProperty.THREADS.intValue(Runtime.getRuntime().availableProcessors()));
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    private static final Object SUBMIT_LOCK = new Object();
    /** How long an idle worker spins before it parks (-Dmv.spinMicros, default 1000), while the CPUs are not contended. */
    private static final long SPIN_NANOS = 1000L * SystemProperty.SPIN_MICROS.longValue(1000);

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker(i + 1);
            WORKERS[i].start();
        }
    }

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** Threads a kernel called here can use: 1 inside a parallel region (it runs inline), else {@link #threads()}. */
    public static int available() {
        return INSIDE.get() ? 1 : THREADS;
    }

    /**
     * Runs {@code task.accept(t)} once for each pool thread t in [0, threads()): t = 0 on the caller, t on
     * worker t. Unlike {@link #forEach}, no thread can take two tasks, so each task gets a core of its own
     * for its whole length (data-parallel work, where the tasks are long and equal). Inside a parallel
     * region, or with one thread, the tasks run inline in order.
     */
    public static void onEachThread(IntConsumer task) {
        if (THREADS == 1 || INSIDE.get()) {
            for (int i = 0; i < THREADS; i++) task.accept(i);
            return;
        }
        synchronized (SUBMIT_LOCK) {
            Job job = new Job(THREADS, task, true);
            for (Worker w : WORKERS) w.submit(job);
            INSIDE.set(true);
            try {
                job.runTasks(0);
            } finally {
                INSIDE.set(false);
            }
            job.awaitHelpers(WORKERS.length);
            job.rethrow();
        }
    }

    /**
     * Runs {@code task.accept(i)} for i in [0, n), spread over the pool with dynamic scheduling.
     * Each task must write only its own outputs.
     */
    public static void forEach(int n, IntConsumer task) {
        if (n <= 0) return;
        if (n == 1 || THREADS == 1 || INSIDE.get()) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        synchronized (SUBMIT_LOCK) { // one parallel region at a time; other callers wait their turn
            Job job = new Job(n, task, false);
            int helpers = Math.min(WORKERS.length, n - 1);
            for (int w = 0; w < helpers; w++) WORKERS[w].submit(job);
            INSIDE.set(true);
            try {
                job.runTasks(0);
            } finally {
                INSIDE.set(false);
            }
            job.awaitTasks();
            job.rethrow();
        }
    }

    /**
     * Splits [0, n) into at most {@code threads()} contiguous ranges of at least {@code grain}
     * items and runs {@code body.range(start, end)} on each.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.max(1, Math.min(THREADS, (n + Math.max(1, grain) - 1) / Math.max(1, grain)));
        if (chunks == 1 || INSIDE.get()) {
            body.range(0, n);
            return;
        }
        forEach(chunks, c -> {
            int s = (int) ((long) n * c / chunks), e = (int) ((long) n * (c + 1) / chunks);
            if (s < e) body.range(s, e);
        });
    }

    @FunctionalInterface
    public interface RangeBody {
        void range(int start, int end);
    }

    private static final class Job {
        final int n;
        final IntConsumer task;
        /** Task t runs on pool thread t (see onEachThread), instead of whichever thread comes first. */
        final boolean pinned;
        final AtomicInteger next = new AtomicInteger();
        /** Tasks finished (unpinned jobs) or helpers finished (pinned ones). */
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;
        final Thread owner = Thread.currentThread();

        Job(int n, IntConsumer task, boolean pinned) {
            this.n = n;
            this.task = task;
            this.pinned = pinned;
        }

        /** Runs tasks on pool thread {@code self}: its own one if pinned, else any not yet taken. */
        void runTasks(int self) {
            if (pinned) {
                try {
                    task.accept(self);
                } catch (Throwable t) {
                    failure = t;
                }
                return;
            }
            int i;
            while ((i = next.getAndIncrement()) < n) {
                if (failure == null) {
                    try {
                        task.accept(i);
                    } catch (Throwable t) {
                        failure = t;
                    }
                }
                if (done.incrementAndGet() == n && Thread.currentThread() != owner) LockSupport.unpark(owner);
            }
        }

        void rethrow() {
            if (failure == null) return;
            if (failure instanceof RuntimeException re) throw re;
            if (failure instanceof Error e) throw e;
            throw new RuntimeException(failure);
        }

        void helperFinished() {
            done.incrementAndGet();
            LockSupport.unpark(owner);
        }

        /** A pinned job: waits until every helper has run its task. */
        void awaitHelpers(int helpers) {
            await(helpers);
        }

        /**
         * An unpinned job: waits until every task has finished, not for the helpers as such. A helper that was not
         * scheduled in time (its vCPU taken by the host, or still waking from park) is not waited for when the
         * caller has run its share of the tasks meanwhile; it finds none left when it comes.
         */
        void awaitTasks() {
            await(n);
        }

        private void await(int count) {
            int spins = 0;
            while (done.get() < count) {
                if (++spins < 2000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
            }
        }
    }

    private static final class Worker extends Thread {
        /** The job to help with; taken atomically, since a finished job may be replaced before its helper came. */
        private final java.util.concurrent.atomic.AtomicReference<Job> job = new java.util.concurrent.atomic.AtomicReference<>();
        private final int id;

        Worker(int id) {
            super("mv-worker-" + id);
            this.id = id;
            setDaemon(true);
        }

        void submit(Job j) {
            job.set(j);
            LockSupport.unpark(this);
        }

        @Override
        public void run() {
            INSIDE.set(true);
            long idleSince = System.nanoTime();
            int spins = 0;
            boolean spin = true;
            while (true) {
                Job j = job.getAndSet(null);
                if (j == null) {
                    // Spin a little before parking: a model runs parallel regions back to back, and
                    // waking a parked thread (on these VMs, a halted vCPU) costs up to milliseconds.
                    // Not while other threads want the CPUs (see CpuContention).
                    if ((++spins & 63) == 0) {
                        long now = System.nanoTime();
                        CpuContention.sample(now);
                        spin = now - idleSince < SPIN_NANOS && !CpuContention.contended(now);
                    }
                    if (spin) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                        idleSince = System.nanoTime();
                        spin = !CpuContention.contended(idleSince);
                    }
                    continue;
                }
                j.runTasks(id);
                if (j.pinned) j.helperFinished();
                idleSince = System.nanoTime();
                spins = 0;
                spin = !CpuContention.contended(idleSince);
            }
        }
    }
}
