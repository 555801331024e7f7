package org.mambavision.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.mambavision.inference.Predictor;
import org.mambavision.inference.image.Images;
import org.mambavision.engine.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Classify images: official preprocessing, top-k classes with probabilities.")
public final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model name (required for official weights; read from our training checkpoints).")
    String model;

    @Option(names = "--weights", required = true, description = "Official .pth.tar/.safetensors, or a training checkpoint.")
    Path weights;

    @Option(names = "--top", defaultValue = "5", description = "How many classes to show (default 5).")
    int top;

    @Option(names = "--json", description = "One JSON object per image.")
    boolean json;

    @Option(names = "--max-image-pixels", defaultValue = "89478485",
            description = "Refuse images whose header declares more pixels, before decoding them (default: ${DEFAULT-VALUE}, PIL's limit).")
    long maxImagePixels;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files (JPEG, PNG, BMP).")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        Predictor p = Predictor.load(model, weights);
        for (Path img : images) {
            BufferedImage bi = Images.readBuffered(img, maxImagePixels);
            List<Predictor.Prediction> preds = p.predict(bi, top);
            if (json) {
                StringBuilder sb = new StringBuilder("{\"image\":").append(Json.write(img.toString())).append(",\"top\":[");
                for (int i = 0; i < preds.size(); i++) {
                    Predictor.Prediction q = preds.get(i);
                    sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "{\"index\":%d,\"label\":%s,\"probability\":%.6f}",
                            q.index(), Json.write(q.label()), q.probability()));
                }
                System.out.println(sb.append("]}"));
            } else {
                System.out.println(img);
                for (Predictor.Prediction q : preds) {
                    System.out.printf(Locale.ROOT, "  %6.2f%%  %4d  %s%n", 100 * q.probability(), q.index(), q.label());
                }
            }
        }
        return 0;
    }
}
