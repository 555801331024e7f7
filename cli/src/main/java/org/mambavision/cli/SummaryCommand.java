package org.mambavision.cli;

import java.util.concurrent.Callable;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.ModelSummary;
import org.mambavision.models.VisionModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Per-layer table (output shape, parameters, MACs) and totals for a model.")
public final class SummaryCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model name, e.g. mambavision_t or flat_tiny.")
    String model;

    @Option(names = "--img-size", description = "Input size: H or HxW (default: the model's).")
    String imgSize;

    @Option(names = "--num-classes", description = "Classifier classes (default 1000 for the official presets).")
    Integer numClasses;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        ModelOptions o = ModelOptions.defaults();
        if (numClasses != null) o = o.withClasses(numClasses);
        VisionModel m = ModelRegistry.create(model, o);
        ImageSize s = ImageSize.parse(imgSize, m.defaultImgSize());
        ModelSummary summary = ModelSummary.of(m, s.height(), s.width());
        System.out.println(json ? summary.toJson() : summary.toTable());
        return 0;
    }
}
