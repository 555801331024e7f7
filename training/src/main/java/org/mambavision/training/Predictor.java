package org.mambavision.training;

import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Softmax;
import org.mambavision.models.Features;
import org.mambavision.models.ImageNetClasses;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.ConfigException;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.Image;
import org.mambavision.training.data.Images;
import org.mambavision.training.data.Preprocess;
import org.mambavision.training.data.transforms.Transform;

/**
 * Image classification with a loaded model: the official evaluation preprocessing (bicubic resize,
 * center crop with the model's crop_pct, ImageNet mean/std), or, for one of our training checkpoints,
 * the run's own evaluation pipeline (its channels, size and dataset statistics); softmax, top-k. Safe to call from several
 * threads at once: inference records no tape and eval-mode layers mutate nothing.
 */
public final class Predictor {
    public record Prediction(int index, String label, float probability) {}

    private final VisionModel model;
    private final List<String> classNames;
    private final int imgSize;
    /** The training run's evaluation transform, or null for the official ImageNet preprocessing. */
    private final Transform runEval;

    public Predictor(VisionModel model, List<String> classNames) {
        this(model, classNames, null);
    }

    private Predictor(VisionModel model, List<String> classNames, Transform runEval) {
        this.model = model;
        this.classNames = classNames;
        this.imgSize = model.defaultImgSize();
        this.runEval = runEval;
        model.freezeForInference(); // eval mode, weights packed once (the model is read-only here)
    }

    /**
     * Loads official weights (safetensors or torch checkpoint; {@code modelName} required) or one of
     * our training checkpoints (model and class names come from the checkpoint; {@code modelName} may be null).
     */
    public static Predictor load(String modelName, Path weights) throws IOException {
        if (!Files.isRegularFile(weights)) throw new FileNotFoundException(weights + ": no such file");
        if (TrainCheckpoint.isCheckpoint(weights)) {
            TrainCheckpoint.Loaded c = TrainCheckpoint.loadModel(weights);
            return new Predictor(c.model(), c.classNames(), runEvalTransform(c, weights));
        }
        if (modelName == null) throw new IllegalArgumentException("--model is required with official weights (" + weights + ")");
        VisionModel m = ModelRegistry.create(modelName);
        Weights.load(m, weights, true);
        return new Predictor(m, m.numClasses() == 1000 ? ImageNetClasses.names() : indexNames(m.numClasses()));
    }

    /** The validation transform of the run that wrote the checkpoint (from its stored config), if it has one. */
    private static Transform runEvalTransform(TrainCheckpoint.Loaded c, Path weights) {
        String yaml = c.info().get("config");
        if (yaml == null) return null;
        TrainConfig cfg;
        try {
            cfg = ConfigLoader.loadString(yaml, weights + " (stored config)");
        } catch (ConfigException e) {
            return null; // a config this version cannot read: fall back to the official preprocessing
        }
        float[][] ms = TrainingData.normalization(cfg.dataset, cfg.inChans);
        return TrainingData.evalTransformFor(cfg, ms[0], ms[1]);
    }

    static List<String> indexNames(int n) {
        List<String> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) l.add("class_" + i);
        return l;
    }

    public VisionModel model() {
        return model;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** The preprocessed image as a (1, C, S, S) tensor. */
    public Tensor preprocess(BufferedImage img) {
        if (runEval != null) {
            // As the run's validation images were: converted to its channel count, resized, normalised.
            Image x = runEval.apply(Images.fromBuffered(img, model.inChans()), new SplittableRandom(0));
            return Tensor.of(x.data(), 1, x.channels(), x.height(), x.width());
        }
        float[] chw = Preprocess.officialEval(img, imgSize, model.cropPct());
        return Tensor.of(chw, 1, 3, imgSize, imgSize);
    }

    public List<Prediction> predict(BufferedImage img, int topK) {
        Tensor probs;
        try (var g = Tape.noGrad()) {
            probs = Softmax.forward(model.forward(preprocess(img)));
        }
        return topK(probs.data, topK);
    }

    public Features features(BufferedImage img) {
        try (var g = Tape.noGrad()) {
            return model.forwardFeatures(preprocess(img));
        }
    }

    List<Prediction> topK(float[] p, int k) {
        List<Prediction> out = new ArrayList<>();
        boolean[] used = new boolean[p.length];
        for (int r = 0; r < Math.min(k, p.length); r++) {
            int best = -1;
            for (int i = 0; i < p.length; i++) if (!used[i] && (best < 0 || p[i] > p[best])) best = i;
            used[best] = true;
            out.add(new Prediction(best, best < classNames.size() ? classNames.get(best) : "class_" + best, p[best]));
        }
        return out;
    }
}
