package org.mambavision.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./mambavision}. */
@Command(name = "mambavision", mixinStandardHelpOptions = true, version = "mambavision 0.1.0",
        description = "Build, train, evaluate and serve MambaVision backbones on the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, InferCommand.class, SummaryCommand.class, ModelsCommand.class,
                PlotCommand.class, BenchCommand.class})
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
        CommandLine cl = new CommandLine(new Main());
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof java.io.UncheckedIOException) {
                String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
                cmd.getErr().println("error: " + msg);
                cmd.getErr().flush();
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }
}
