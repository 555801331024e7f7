package org.mambavision.training.track;

import java.util.function.Consumer;

/**
 * Runs a tracking side task (a plot, a report, a log write) so that its failure becomes a warning instead of
 * an exception in the training loop. Tracking output is a convenience; losing it must never cost a run.
 */
public final class Guard {
    private Guard() {}

    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    /** Runs {@code action}; on failure calls {@code warn} with "{@code what} failed: reason" and returns false. */
    public static boolean run(Consumer<String> warn, String what, Action action) {
        try {
            action.run();
            return true;
        } catch (Throwable t) {
            rethrowIfFatal(t);
            warn(warn, what + " failed: " + describe(t));
            return false;
        }
    }

    /** Out of memory or stack overflow mean the JVM itself is in trouble; those are not tracking failures. */
    static void rethrowIfFatal(Throwable t) {
        if (t instanceof VirtualMachineError vme && !(t instanceof InternalError)) throw vme;
    }

    /** Calls the warning sink, ignoring failures of the sink itself. */
    static void warn(Consumer<String> warn, String message) {
        try {
            warn.accept(message);
        } catch (RuntimeException ignored) {
            // A broken warning sink must not turn a warning into a crash.
        }
    }

    static String describe(Throwable t) {
        String msg = t.getMessage();
        String type = t.getClass().getSimpleName();
        if (t instanceof java.nio.file.FileSystemException fse && fse.getReason() == null) {
            return type + ": " + fse.getFile();
        }
        return msg == null ? type : type + ": " + msg;
    }

    /** Warns on standard error; the default sink when the caller gives none. */
    public static final Consumer<String> STDERR = m -> System.err.println("warning: " + m);
}
