package org.mambavision.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.Predictor;
import org.mambavision.models.Features;
import org.mambavision.models.VisionModel;
import org.mambavision.models.nn.Module;
import org.mambavision.models.nn.Profiler;

/**
 * Exports a model to ONNX by running one forward pass in evaluation mode with an {@link OpTrace} recording: the graph
 * is the model's own code, op by op, so it cannot drift from what inference computes. Input {@code images}
 * (batch, C, H, W) with a dynamic batch; output {@code logits}, and with features {@code stage0..} and
 * {@code pooled} (the names of {@code infer --features}). The preprocessing and the class labels go into the model's
 * metadata_props.
 */
public final class OnnxExporter {
    /** The opsets the export writes (LayerNormalization needs 17; ONNX Runtime 1.23 reads up to 23). */
    public static final int MIN_OPSET = 17, MAX_OPSET = 23, DEFAULT_OPSET = 17;
    /** Batch of the traced pass: not 1, so that nothing batch-sized can pass for a constant 1. */
    private static final int TRACE_BATCH = 2;

    /**
     * What to export: input height and width (fixed), the feature outputs, the opset, and the size of the
     * initializers from which they go to an external data file (protobuf's 2 GB limit by default).
     */
    public record Options(int height, int width, boolean features, int opset, long externalThreshold) {
        public Options {
            if (height <= 0 || width <= 0) throw new IllegalArgumentException("image size " + height + "x" + width + ": must be positive");
            if (opset < MIN_OPSET || opset > MAX_OPSET) {
                throw new IllegalArgumentException("--opset " + opset + ": supported are " + MIN_OPSET + " to " + MAX_OPSET);
            }
        }

        public static Options of(int height, int width) {
            return new Options(height, width, false, DEFAULT_OPSET, OnnxWriter.DEFAULT_EXTERNAL_THRESHOLD);
        }

        public Options withFeatures(boolean f) { return new Options(height, width, f, opset, externalThreshold); }

        public Options withOpset(int o) { return new Options(height, width, features, o, externalThreshold); }

        public Options withExternalThreshold(long t) { return new Options(height, width, features, opset, t); }
    }

    /** The written model file, its external data file (or null), the node count and the output names. */
    public record Result(Path model, Path externalData, int nodes, List<String> outputs) {}

    private OnnxExporter() {}

    /** Exports a loaded predictor's model with its class names and preprocessing. */
    public static Result export(Predictor p, Options o, Path output) throws IOException {
        return export(p.model(), p.classNames(), p.preprocessing(), o, output);
    }

    public static Result export(VisionModel model, List<String> classNames, EvalPreprocessing pre, Options o, Path output) throws IOException {
        checkOutput(output);
        OpTrace trace = record(model, o);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("model", model.name());
        meta.put("input", "images");
        meta.put("input_size", o.height() + "x" + o.width());
        meta.putAll(pre.toMetadata());
        meta.put("class_names", String.join("\n", classNames));
        String doc = model.name() + " exported by MambaVision on the JVM: input images (batch, " + model.inChans() + ", " + o.height()
                + ", " + o.width() + "), preprocessed as in metadata_props preprocess.*; outputs "
                + String.join(", ", trace.graph().outputs.stream().map(OpTrace.ValueInfo::name).toList()) + ".";
        Path data = OnnxWriter.write(trace, meta, doc, output, o.externalThreshold());
        return new Result(output, data, countNodes(trace.graph()), trace.graph().outputs.stream().map(OpTrace.ValueInfo::name).toList());
    }

    /** Records the graph of {@code model} at the given size (eval mode, no gradients). */
    static OpTrace record(VisionModel model, Options o) {
        Map<Tensor, String> names = new IdentityHashMap<>();
        model.stateDict().forEach((k, v) -> names.putIfAbsent(v, k));
        OpTrace trace = new OpTrace(o.opset(), names);
        Tensor x = Tensor.uniform(new SplittableRandom(1), -1f, 1f, TRACE_BATCH, model.inChans(), o.height(), o.width());
        boolean wasTraining = model.training();
        model.train(false);
        // the profiler's layer rows name the nodes after the layers they compute (see OnnxWriter)
        Profiler layers = Profiler.start((Module) model);
        try (var g = Tape.noGrad(); var t = trace.start()) {
            trace.input(x, "images");
            Features f;
            try {
                f = model.forwardFeatures(x);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(model.name() + " cannot take " + o.height() + "x" + o.width() + " images: " + e.getMessage(), e);
            }
            Tensor logits = model.head(f.pooled());
            trace.output(logits, "logits");
            if (o.features()) {
                for (int i = 0; i < f.stages().size(); i++) trace.output(f.stages().get(i), "stage" + i);
                trace.output(f.pooled(), "pooled");
            }
        } finally {
            layers.stop();
            if (wasTraining) model.train(true);
        }
        return trace;
    }

    private static int countNodes(OpTrace.Graph g) {
        int n = 0;
        for (OpTrace.Node node : g.nodes) {
            n++;
            for (OpTrace.Attr a : node.attrs()) if (a.value() instanceof OpTrace.Graph sub) n += countNodes(sub);
        }
        return n;
    }

    private static void checkOutput(Path output) {
        Path abs = output.toAbsolutePath();
        if (Files.isDirectory(abs)) throw new IllegalArgumentException("--output " + output + ": is a directory; give a file name such as model.onnx");
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IllegalArgumentException("--output " + output + ": folder " + dir + " does not exist");
        if (!Files.isWritable(dir)) throw new IllegalArgumentException("--output " + output + ": folder " + dir + " is not writable");
    }
}
