package org.mambavision.spark;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.mambavision.cli.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./mambavision spark ...}, and the main class for {@code spark-submit}: batch prediction over image
 * collections and data-parallel training on a Spark cluster (or in local mode).
 */
@Command(name = "spark", mixinStandardHelpOptions = true, version = "mambavision 0.1.0",
        description = "Run on Apache Spark: batch prediction over image collections, data-parallel training across executors.",
        subcommands = {SparkPredictCommand.class, SparkTrainCommand.class, AllReduceBenchCommand.class})
public final class SparkMain implements Callable<Integer> {
    public static void main(String[] args) {
        int code = run(new PrintWriter(System.err, true), args);
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        System.exit(code);
    }

    /** Runs a subcommand with the CLI's error handling (a user's mistake is one line, exit 2). */
    public static int run(PrintWriter err, String... args) {
        return Main.run(new CommandLine(new SparkMain()), err, args);
    }

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }
}
