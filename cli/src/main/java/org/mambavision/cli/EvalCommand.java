package org.mambavision.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.training.Evaluator;
import org.mambavision.training.TrainingData;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.DataLoader;
import org.mambavision.training.data.Dataset;
import org.mambavision.training.track.Plots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a training checkpoint on a dataset's test split: loss, top-1, top-5, confusion matrix.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "A training checkpoint (last.safetensors or best.safetensors).")
    Path weights;

    @Option(names = "--dataset", description = "Dataset name (default: the checkpoint's).")
    String dataset;

    @Option(names = "--data-dir", description = "Dataset folder (default: the checkpoint's, or the dataset's default).")
    String dataDir;

    @Option(names = "--batch-size", defaultValue = "64", description = "Batch size (default 64).")
    int batchSize;

    @Option(names = "--ema", description = "Evaluate the EMA weights if the checkpoint has them.")
    boolean ema;

    @Option(names = "--confusion", description = "Write the confusion matrix to this PNG.")
    Path confusionPng;

    @Option(names = "--max-image-pixels", description = "Skip images whose header declares more pixels (default: the run's max_image_pixels).")
    Long maxImagePixels;

    @Override
    public Integer call() throws Exception {
        ModelCheckpoint.Loaded loaded = ModelCheckpoint.load(weights, ema);
        String yaml = loaded.metadata().get("info.config");
        TrainConfig cfg = yaml != null ? ConfigLoader.loadString(yaml, weights + " (config)") : TrainConfig.defaults();
        if (dataset != null) cfg.set("dataset", dataset, "--dataset");
        if (dataDir != null) cfg.set("data_dir", dataDir, "--data-dir");
        if (maxImagePixels != null) cfg.set("max_image_pixels", maxImagePixels, "--max-image-pixels");
        boolean hasTest = TrainingData.hasTestSplit(cfg.dataset);
        Dataset ds = TrainingData.validationSet(cfg); // the run's own validation set: same split, seed and fraction
        if (ds.numClasses() != loaded.model().numClasses()) {
            throw new UserError(cfg.dataset + " has " + ds.numClasses() + " classes but the model in " + weights + " has " + loaded.model().numClasses());
        }
        // the run's own evaluation preprocessing, as its validation saw the images
        EvalPreprocessing pre = loaded.preprocessing() != null ? loaded.preprocessing() : org.mambavision.training.TrainingData.evalPreprocessing(cfg);
        try (DataLoader dl = DataLoader.builder(ds).transform(pre.transform())
                .batchSize(batchSize).shuffle(false).dropLast(false).numWorkers(cfg.numWorkers).seed(cfg.seed).build()) {
            Evaluator.Result r = Evaluator.evaluate(loaded.model(), dl, ds.numClasses());
            System.out.printf(Locale.ROOT, "%s on %s (%s, %d images): loss %.4f  top-1 %.4f  top-5 %.4f%n", weights, cfg.dataset,
                    hasTest ? "test split" : "validation split", r.samples(), r.loss(), r.top1(), r.top5());
            System.out.println("confusion matrix (rows: true class, columns: predicted):");
            for (int i = 0; i < r.confusion().length; i++) {
                StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-14.14s", loaded.classNames().get(i)));
                for (int v : r.confusion()[i]) sb.append(String.format(Locale.ROOT, " %5d", v));
                System.out.println(sb);
            }
            if (confusionPng != null) {
                Plots.confusionMatrix(r.confusion(), loaded.classNames(), confusionPng);
                System.out.println("wrote " + confusionPng);
            }
        }
        return 0;
    }
}
