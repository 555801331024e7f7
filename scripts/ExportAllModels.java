import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.export.OnnxExporter;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;

/**
 * Exports models (randomly initialised, at their default size) and checks each in ONNX Runtime against our engine:
 * one image, relative error of the logits. Run through scripts/export-all-models.sh.
 */
public final class ExportAllModels {
    public static void main(String[] args) throws Exception {
        List<String> names = args.length > 1 ? List.of(args).subList(1, args.length) : ModelRegistry.names();
        Path dir = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "/tmp/mambavision-onnx"));
        System.out.printf("%-20s %9s %7s %9s %10s %9s %10s%n", "model", "size", "nodes", "MB", "external", "export_s", "rel_err");
        for (String name : names) {
            VisionModel m = ModelRegistry.create(name);
            int s = m.defaultImgSize();
            Path file = dir.resolve(name + ".onnx");
            long t0 = System.nanoTime();
            OnnxExporter.Result r = OnnxExporter.export(m, ModelCheckpoint.indexNames(m.numClasses()), EvalPreprocessing.official(m),
                    OnnxExporter.Options.of(s, s), file);
            double exportSeconds = (System.nanoTime() - t0) / 1e9;
            long bytes = Files.size(file) + (r.externalData() == null ? 0 : Files.size(r.externalData()));
            Tensor x = Tensor.uniform(new SplittableRandom(3), -2f, 2f, 1, m.inChans(), s, s);
            float[] ours;
            m.freezeForInference();
            try (var g = Tape.noGrad()) {
                ours = m.forward(x).data;
            }
            m = null; // the engine's copy of the weights can go before ONNX Runtime loads its own
            float[] theirs;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
                try (OrtSession session = env.createSession(file.toString(), so);
                     OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.data), new long[] {1, 3, s, s});
                     OrtSession.Result out = session.run(Map.of("images", in))) {
                    FloatBuffer fb = ((OnnxTensor) out.get("logits").get()).getFloatBuffer();
                    theirs = new float[fb.remaining()];
                    fb.get(theirs);
                }
            }
            double d = 0, n = 0;
            for (int i = 0; i < ours.length; i++) {
                d += (theirs[i] - ours[i]) * (double) (theirs[i] - ours[i]);
                n += ours[i] * (double) ours[i];
            }
            System.out.printf("%-20s %9s %7d %9.1f %10s %9.1f %10.2e%n", name, s + "x" + s, r.nodes(), bytes / 1e6,
                    r.externalData() == null ? "no" : "yes", exportSeconds, Math.sqrt(d / n));
            Files.deleteIfExists(file);
            if (r.externalData() != null) Files.deleteIfExists(r.externalData());
        }
    }
}
