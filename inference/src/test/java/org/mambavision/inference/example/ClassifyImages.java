package org.mambavision.inference.example;

import java.nio.file.Path;
import java.util.List;
import org.mambavision.inference.Predictor;
import org.mambavision.models.Features;

/** Classifies image files: java ClassifyImages MODEL WEIGHTS IMAGE... (the README's example, run by ReadmeExampleTest). */
public class ClassifyImages {
    public static void main(String[] args) throws Exception {
        // Official weights (.pth.tar or .safetensors) need the model name; our own checkpoints carry it (pass null).
        Predictor predictor = Predictor.load(args[0], Path.of(args[1]));   // thread-safe: share one per model
        for (int i = 2; i < args.length; i++) {
            // decoded with the pixel limit checked first, preprocessed as the model expects, softmax, top 5
            List<Predictor.Prediction> top5 = predictor.predict(Path.of(args[i]), 5);
            Predictor.Prediction best = top5.get(0);
            System.out.printf("%s: %s (class %d, p=%.3f)%n", args[i], best.label(), best.index(), best.probability());
        }
        Features f = predictor.features(Path.of(args[2]));   // four stage maps + pooled features
        System.out.println("pooled features: " + f.pooled().shape()[1] + " values");
    }
}
