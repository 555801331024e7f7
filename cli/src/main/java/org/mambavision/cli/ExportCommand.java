package org.mambavision.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mambavision.engine.io.WeightFiles;
import org.mambavision.export.OnnxExporter;
import org.mambavision.inference.Predictor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a model to ONNX (standard operators only; the selective scan as an ONNX Scan) for ONNX Runtime, "
                + "TensorRT or OpenVINO. Input 'images' (batch, C, H, W) with a dynamic batch; output 'logits' (with --features "
                + "also stage0..stage3 and pooled). The preprocessing (preprocess.*) and class_names go into metadata_props.",
                "Models whose weights pass 2 GB write them to OUTPUT.data beside the model (ONNX external data)."})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model name (required for official weights; with our training checkpoints optional).")
    String model;

    @Option(names = "--weights", required = true, description = "Official .pth.tar/.safetensors, or a training checkpoint.")
    Path weights;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The .onnx file to write.")
    Path output;

    @Option(names = "--img-size", description = "Input size, 224 or HxW such as 256x320 (default: the model's). Fixed in the graph: "
            + "the windows of the hierarchical models depend on it.")
    String imgSize;

    @Option(names = "--features", description = "Also output the stage maps stage0..stage3 and the pooled features.")
    boolean features;

    @Option(names = "--opset", defaultValue = "" + OnnxExporter.DEFAULT_OPSET,
            description = "ONNX opset, " + OnnxExporter.MIN_OPSET + " to " + OnnxExporter.MAX_OPSET + " (default ${DEFAULT-VALUE}).")
    int opset;

    @Override
    public Integer call() throws Exception {
        OnnxExporter.Options probe = OnnxExporter.Options.of(1, 1).withOpset(opset); // a bad --opset before loading anything
        if (Files.isDirectory(output)) throw new UserError("--output " + output + ": is a directory; give a file name such as model.onnx");
        WeightFiles.check(weights);
        Predictor p = Predictor.load(model, weights);
        ImageSize s = ImageSize.parse(imgSize, p.model().defaultImgSize());
        OnnxExporter.Options o = new OnnxExporter.Options(s.height(), s.width(), features, probe.opset(), probe.externalThreshold());
        OnnxExporter.Result r = OnnxExporter.export(p, o, output);
        long bytes = Files.size(r.model()) + (r.externalData() == null ? 0 : Files.size(r.externalData()));
        System.out.printf(Locale.ROOT, "wrote %s: %s %dx%d, opset %d, %d nodes, outputs %s, %.1f MB%s%n", output, p.model().name(),
                s.height(), s.width(), opset, r.nodes(), String.join(", ", r.outputs()), bytes / 1e6,
                r.externalData() == null ? "" : " (weights in " + r.externalData().getFileName() + ")");
        return 0;
    }
}
