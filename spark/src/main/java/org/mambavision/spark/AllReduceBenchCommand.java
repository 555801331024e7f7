package org.mambavision.spark;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mambavision.cli.UserError;
import org.mambavision.spark.train.AllReduceBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench-allreduce", mixinStandardHelpOptions = true,
        description = "Time the gradient all-reduce of spark train: N barrier tasks sum a buffer of each model's parameter count over the TCP ring.")
public final class AllReduceBenchCommand implements Callable<Integer> {
    @Mixin
    SparkOptions sparkOptions;

    @Option(names = "--workers", defaultValue = "2", description = "Barrier tasks in the ring (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--models", split = ",", defaultValue = "flat_tiny,mambavision_t", description = "Models whose gradient sizes to sum (default ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--steps", defaultValue = "10", description = "Timed all-reduces per model, after one warm-up (default ${DEFAULT-VALUE}).")
    int steps;

    @Override
    public Integer call() {
        if (workers < 1 || steps < 1) throw new UserError("--workers and --steps must be at least 1");
        List<AllReduceBench.Result> results = AllReduceBench.run(sparkOptions.session("mambavision spark bench-allreduce"), workers, models, steps,
                Duration.ofSeconds(300));
        System.out.printf(Locale.ROOT, "%-16s %12s %8s %12s %12s %14s%n", "model", "values", "workers", "median ms", "min ms", "MB/s per task");
        for (AllReduceBench.Result r : results) {
            System.out.printf(Locale.ROOT, "%-16s %,12d %8d %12.1f %12.1f %14.0f%n", r.model(), r.values(), r.workers(), r.medianSeconds() * 1e3,
                    r.minSeconds() * 1e3, r.bytesSentPerProcess() / r.medianSeconds() / 1e6);
        }
        return 0;
    }
}
