package org.mambavision.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert an official checkpoint (.pth.tar or .safetensors) to safetensors with the model name and preprocessing in the metadata.")
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Official checkpoint: .pth.tar (torch zip) or .safetensors.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The safetensors file to write (atomically).")
    Path out;

    @Option(names = "--model", description = "Model name; without it the model is inferred from the tensor shapes where only one registered model fits.")
    String model;

    @Override
    public Integer call() throws Exception {
        if (TrainCheckpoint.isCheckpoint(in)) {
            throw new UserError(in + " is one of our training checkpoints: predict, eval and infer read it as it is");
        }
        Map<String, Tensor> tensors = Weights.read(in);
        String name = model != null ? ModelRegistry.canonical(model) : inferModel(tensors);
        // the file's own class count and input channels; the rest of the architecture comes from the registry
        ModelOptions options = ModelOptions.defaults();
        Tensor head = tensors.get(Weights.HEAD_PREFIX + "weight");
        if (head != null && head.rank() == 2) options = options.withClasses(head.dim(0));
        Tensor stem = tensors.get(ModelRegistry.isFlat(name) ? "patch_embed.proj.weight" : "patch_embed.conv_down.0.weight");
        if (stem != null && stem.rank() == 4) options = options.withInChans(stem.dim(1));
        VisionModel m = ModelRegistry.create(name, options);
        Weights.LoadReport report;
        try {
            report = Weights.load(m, tensors, true);
        } catch (IllegalArgumentException e) {
            throw new UserError(in + ": " + e.getMessage());
        }
        // what predict, infer and the Predictor read back: the model and its official evaluation preprocessing
        EvalPreprocessing pre = EvalPreprocessing.official(m);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelCheckpoint.MODEL, name);
        meta.put("num_classes", String.valueOf(m.numClasses()));
        meta.put("in_chans", String.valueOf(m.inChans()));
        meta.putAll(pre.toMetadata());
        meta.put("source", in.getFileName().toString());
        Weights.save(m, out, meta);
        int same = verify(out, m);
        System.out.printf("%s -> %s: %s, %d classes, %d tensors (read back: %d identical); preprocessing: %s%n",
                in, out, name, m.numClasses(), report.loaded().size(), same, pre);
        return 0;
    }

    /** The registered model the tensor shapes fit; an error when none or several do. */
    private String inferModel(Map<String, Tensor> tensors) {
        List<String> fits = Weights.hierarchicalModelsFitting(tensors);
        if (fits.size() == 1) {
            System.out.println("model: " + fits.get(0) + " (inferred from the tensor shapes)");
            return fits.get(0);
        }
        if (fits.isEmpty()) {
            throw new UserError(in + ": the tensor shapes fit no registered hierarchical MambaVision; pass --model (valid: "
                    + String.join(", ", ModelRegistry.names()) + ")");
        }
        throw new UserError(in + ": the tensor shapes fit " + String.join(", ", fits)
                + " (they differ only in window sizes or attention heads); pass --model");
    }

    /** Reads {@code file} back and counts the tensors equal, bit for bit, to the model's. */
    private static int verify(Path file, VisionModel m) throws java.io.IOException {
        Map<String, Tensor> sd = m.stateDict();
        int same = 0;
        try (Safetensors st = Safetensors.open(file)) {
            for (String k : st.names()) {
                if (java.util.Arrays.equals(st.tensor(k).data, sd.get(k).data)) same++;
            }
        }
        if (same != sd.size()) throw new IllegalStateException(file + ": read back " + same + " of " + sd.size() + " tensors unchanged");
        return same;
    }
}
