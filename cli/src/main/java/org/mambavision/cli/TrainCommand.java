package org.mambavision.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.mambavision.training.Trainer;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model. With no arguments: flat_tiny on synthetic data for a few minutes.",
                "Writes runs/NAME-TIMESTAMP/ with config.yaml, metrics.jsonl/csv, TensorBoard events, checkpoints, plots and report.html."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "YAML config file (keys as in configs/default.yaml).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable), e.g. --set epochs=10.")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue an interrupted run exactly (its config.yaml and last checkpoint).")
    Path resume;

    @Override
    public Integer call() throws Exception {
        TrainConfig cfg;
        if (resume != null) {
            Path yaml = Files.isDirectory(resume) ? resume.resolve("config.yaml") : resume.toAbsolutePath().getParent().resolve("config.yaml");
            if (!Files.isRegularFile(yaml)) throw new UserError(resume + ": not a run directory (no config.yaml)");
            cfg = ConfigLoader.load(config != null ? config : yaml, overrides);
            cfg.resume = resume.toString();
        } else {
            cfg = ConfigLoader.load(config, overrides);
        }
        Trainer.Result r = new Trainer(cfg).run();
        return r.stopReason() instanceof Trainer.StopReason.NonFiniteLoss ? 4 : 0;
    }
}
