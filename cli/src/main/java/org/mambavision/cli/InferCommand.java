package org.mambavision.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Safetensors;
import org.mambavision.models.Features;
import org.mambavision.models.VisionModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "infer", mixinStandardHelpOptions = true,
        description = "Run a model on a tensor file: 'input' (N,3,H,W) in, 'logits' (and stage maps with --features) out.")
public final class InferCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model name (optional with our own training checkpoints).")
    String model;

    @Option(names = "--weights", required = true, description = "Weights: .safetensors, .pth/.pth.tar/.pt, or a training checkpoint.")
    Path weights;

    @Option(names = "--input", required = true, description = "safetensors file with a tensor named 'input'.")
    Path input;

    @Option(names = "--output", required = true, description = "safetensors file to write.")
    Path output;

    @Option(names = "--features", description = "Also write stage0..stage3 maps and the pooled features.")
    boolean features;

    @Override
    public Integer call() throws Exception {
        org.mambavision.engine.io.WeightFiles.check(weights); // a directory or text file named as such, before loading
        VisionModel m = org.mambavision.inference.Predictor.load(model, weights).model();
        Tensor x;
        try (Safetensors in = Safetensors.open(input)) {
            if (!in.names().contains("input")) throw new UserError(input + ": no tensor named 'input' (has: " + in.names() + ")");
            x = in.tensor("input");
        }
        if (x.rank() != 4 || x.dim(1) != m.inChans()) {
            throw new UserError(input + ": 'input' has shape " + x.shapeString() + ", expected (N, " + m.inChans() + ", H, W)");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.freezeForInference();
        try (var g = Tape.noGrad()) {
            Features f = m.forwardFeatures(x);
            out.put("logits", m.head(f.pooled()));
            if (features) {
                for (int i = 0; i < f.stages().size(); i++) out.put("stage" + i, f.stages().get(i));
                out.put("pooled", f.pooled());
            }
        }
        Safetensors.write(output, out, java.util.Set.of(), Map.of("model", m.name()));
        System.out.println("wrote " + output + ": " + describe(out));
        return 0;
    }

    private static String describe(Map<String, Tensor> out) {
        StringBuilder sb = new StringBuilder();
        out.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v.shapeString()));
        return sb.toString();
    }
}
