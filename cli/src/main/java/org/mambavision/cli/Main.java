package org.mambavision.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** Entry point of {@code ./mambavision}. */
@Command(name = "mambavision", mixinStandardHelpOptions = true, version = "mambavision 0.1.0",
        description = "Build, train, evaluate and serve MambaVision backbones on the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, InferCommand.class, SummaryCommand.class, ModelsCommand.class,
                PlotCommand.class, BenchCommand.class, ConvertCommand.class, ExportCommand.class, ServeCommand.class})
public final class Main implements Callable<Integer> {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code; errors the user caused are one clear line, no stack trace. */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, with error lines going to {@code err}. */
    public static int run(java.io.PrintWriter err, String... args) {
        return run(new CommandLine(new Main()), err, args);
    }

    /** Runs {@code cl} (the CLI, or a test's variant of it) with the CLI's error handling. */
    public static int run(CommandLine cl, java.io.PrintWriter err, String... args) {
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String line = errorLine(ex);
            if (line == null) throw ex;
            cmd.getErr().println(line);
            cmd.getErr().flush();
            return 2;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError | StackOverflowError e) { // picocli lets Errors through its handler
            err.println(errorLine(e));
            err.flush();
            return 2;
        }
    }

    /**
     * The one line for a failure the user can act on, or null for a bug (which keeps its stack trace).
     * An OutOfMemoryError or StackOverflowError counts too, also when a worker thread's exception wraps it.
     */
    static String errorLine(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                return String.format(java.util.Locale.ROOT, "error: out of memory (%s; the Java heap is %.1f GiB): lower batch_size or img_size, "
                        + "set gradient_checkpointing: true for training, or give the JVM more heap with MV_HEAP (e.g. MV_HEAP=%dg)",
                        oom.getMessage() == null ? "OutOfMemoryError" : oom.getMessage(), Runtime.getRuntime().maxMemory() / (double) (1L << 30),
                        Math.max(2, 2 * (Runtime.getRuntime().maxMemory() >> 30)));
            }
            if (t instanceof StackOverflowError) {
                return "error: stack overflow: the input is nested or chained too deeply to process (for example a config value nested thousands deep)";
            }
        }
        if (ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException) {
            return "error: " + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage());
        }
        return null;
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }
}
