package org.mambavision.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.mambavision.cli.UserError;
import org.mambavision.spark.train.SparkTraining;
import org.mambavision.training.Trainer;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a config data-parallel over N Spark barrier tasks: each trains on its shard of every batch_size batch, the "
                + "gradients are summed by a ring all-reduce every step, and rank 0 writes the run directory as ./mambavision train does.",
                "save_dir must be a folder every executor can read (the same path on each machine, e.g. NFS): a failed task restarts the stage, "
                        + "and all tasks resume from the last checkpoint there."})
public final class SparkTrainCommand implements Callable<Integer> {
    @Mixin
    SparkOptions sparkOptions;

    @Option(names = "--workers", defaultValue = "2", description = "Barrier tasks (data-parallel processes); the cluster needs as many free task slots (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--config", description = "YAML config file (keys as in configs/default.yaml); batch_size is the global batch of all workers.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue a run directory from its last checkpoint.")
    Path resume;

    @Option(names = "--timeout", defaultValue = "300", description = "Seconds to wait for a peer (joining, each all-reduce) before the stage fails (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--kernel-threads", defaultValue = "0", description = "Kernel threads per executor JVM (default 0: mv.threads, else all cores).")
    int kernelThreads;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds < 1) throw new UserError("--timeout must be at least 1 second, got " + timeoutSeconds);
        TrainConfig cfg;
        Path runDir = null;
        if (resume != null) {
            Path yaml = resume.resolve("config.yaml");
            if (!Files.isRegularFile(yaml)) throw new UserError(resume + ": not a run directory (no config.yaml)");
            cfg = ConfigLoader.load(config != null ? config : yaml, overrides);
            runDir = resume;
        } else {
            cfg = ConfigLoader.load(config, overrides);
        }
        if (cfg.batchSize < workers) throw new UserError("batch_size " + cfg.batchSize + " is the global batch; it must be at least --workers (" + workers + ")");
        SparkTraining.Options options = new SparkTraining.Options(workers, Duration.ofSeconds(timeoutSeconds), kernelThreads, null);
        sparkOptions.master = localWithRetries(sparkOptions.master);
        SparkSession spark = sparkOptions.session("mambavision spark train");
        SparkTraining.checkSlots(spark, workers);
        boolean newRun = runDir == null;
        if (newRun) runDir = Trainer.newRunDir(cfg);
        System.out.printf(Locale.ROOT, "training %s over %d barrier tasks, global batch %d (%s per task); run dir %s%n", cfg.model, workers, cfg.batchSize,
                cfg.batchSize % workers == 0 ? Integer.toString(cfg.batchSize / workers) : cfg.batchSize / workers + "-" + (cfg.batchSize / workers + 1),
                runDir.toAbsolutePath());
        SparkTraining.Summary s;
        try {
            s = SparkTraining.run(spark, cfg, runDir, options);
        } catch (RuntimeException e) {
            if (newRun) Trainer.discardIfNoCheckpoint(runDir);
            throw e;
        }
        System.out.printf(Locale.ROOT, "%s: %d epochs, best val top1 %.4f, final val top1 %.4f top5 %.4f loss %.4f, %.1f train images/s, %.1f s%s%n",
                s.stopMessage() == null ? "Training finished" : "Training stopped: " + s.stopMessage(), s.epochsDone(), s.bestTop1(), s.finalTop1(),
                s.finalTop5(), s.finalValLoss(), s.imagesPerSec(), s.seconds(), s.stageAttempt() > 0 ? " (stage attempt " + (s.stageAttempt() + 1) + ")" : "");
        System.out.println("run dir: " + s.runDir());
        return s.stopMessage() == null ? 0 : 4;
    }

    /**
     * local[N] makes one attempt per task, so a failed training stage would end the job; local[N, 4] lets Spark run
     * it again (resuming from the last checkpoint), as a cluster does.
     */
    static String localWithRetries(String master) {
        if (master == null || !master.matches("local\\[(\\d+|\\*)\\]")) return master;
        String retried = master.substring(0, master.length() - 1) + ",4]";
        System.out.println("master " + master + " as " + retried + ": a failed stage is retried (4 attempts per task)");
        return retried;
    }
}
