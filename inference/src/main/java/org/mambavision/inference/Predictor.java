package org.mambavision.inference;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.WeightFiles;
import org.mambavision.engine.ops.Softmax;
import org.mambavision.inference.image.Image;
import org.mambavision.inference.image.Images;
import org.mambavision.models.Features;
import org.mambavision.models.ImageNetClasses;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;

/**
 * Image classification with a loaded model: preprocessing ({@link EvalPreprocessing}: the official one for official
 * weights, the run's own for our training checkpoints), softmax, top-k.
 *
 * <p>Thread-safe: one Predictor may serve many threads at once. The model is frozen for inference (eval mode, no
 * tape, weights read-only), so a forward pass mutates nothing shared.
 */
public final class Predictor {
    public record Prediction(int index, String label, float probability) {}

    private final VisionModel model;
    private final List<String> classNames;
    private final EvalPreprocessing preprocessing;
    private final long maxImagePixels;

    /** A model with the official preprocessing for its size. */
    public Predictor(VisionModel model, List<String> classNames) {
        this(model, classNames, EvalPreprocessing.official(model), Images.DEFAULT_MAX_PIXELS);
    }

    public Predictor(VisionModel model, List<String> classNames, EvalPreprocessing preprocessing, long maxImagePixels) {
        if (preprocessing.channels() != model.inChans()) {
            throw new IllegalArgumentException("preprocessing makes " + preprocessing.channels() + " channel(s) but " + model.name()
                    + " takes " + model.inChans());
        }
        if (maxImagePixels <= 0) throw new IllegalArgumentException("max image pixels must be > 0, got " + maxImagePixels);
        this.model = model;
        this.classNames = List.copyOf(classNames);
        this.preprocessing = preprocessing;
        this.maxImagePixels = maxImagePixels;
        model.freezeForInference(); // eval mode, weights packed once (the model is read-only here)
    }

    /**
     * Loads official weights (safetensors or torch checkpoint; {@code modelName} required) or one of our training
     * checkpoints (model, class names and preprocessing come from the checkpoint; {@code modelName} may be null, and
     * when given must name the checkpoint's model).
     */
    public static Predictor load(String modelName, Path weights) throws IOException {
        WeightFiles.check(weights); // missing, a directory, a text file: said as such
        if (ModelCheckpoint.isCheckpoint(weights)) {
            ModelCheckpoint.Loaded c = ModelCheckpoint.load(weights, false);
            if (modelName != null && !ModelRegistry.canonical(modelName).equals(ModelRegistry.canonical(c.spec().model()))) {
                throw new IllegalArgumentException("--model " + modelName + " contradicts " + weights + ", a training checkpoint of "
                        + c.spec().model() + "; leave --model out (the checkpoint says its model) or pass --model " + c.spec().model());
            }
            EvalPreprocessing pre = c.preprocessing() != null ? c.preprocessing() : fallbackFor(c.spec());
            return new Predictor(c.model(), c.classNames(), pre, Images.DEFAULT_MAX_PIXELS);
        }
        // official weights: the model is named by the caller, or by the metadata of a file written by convert
        Map<String, String> meta = ModelCheckpoint.safetensorsMetadata(weights);
        String stored = meta.get(ModelCheckpoint.MODEL);
        if (stored != null && !ModelRegistry.isKnown(stored)) stored = null; // another tool's metadata
        if (modelName == null && stored == null) {
            throw new IllegalArgumentException("--model is required with official weights (" + weights + ")");
        }
        if (modelName != null && stored != null && !ModelRegistry.canonical(modelName).equals(ModelRegistry.canonical(stored))) {
            throw new IllegalArgumentException(weights + " holds a " + stored + " model, not " + modelName);
        }
        String name = modelName != null ? modelName : stored;
        ModelOptions options = ModelOptions.defaults();
        try {
            if (meta.containsKey("num_classes")) options = options.withClasses(Integer.parseInt(meta.get("num_classes")));
            if (meta.containsKey("in_chans")) options = options.withInChans(Integer.parseInt(meta.get("in_chans")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(weights + ": bad num_classes or in_chans in its metadata (" + e.getMessage() + ")");
        }
        VisionModel m = ModelRegistry.create(name, options);
        Weights.load(m, weights, true);
        EvalPreprocessing storedPre = EvalPreprocessing.fromMetadata(meta, weights.toString());
        return new Predictor(m, m.numClasses() == 1000 ? ImageNetClasses.names() : ModelCheckpoint.indexNames(m.numClasses()),
                storedPre != null ? storedPre : EvalPreprocessing.official(m), Images.DEFAULT_MAX_PIXELS);
    }

    /** A checkpoint that does not record its preprocessing: resize to its size, ImageNet statistics (grey: their mean). */
    private static EvalPreprocessing fallbackFor(ModelSpec s) {
        EvalPreprocessing rgb = EvalPreprocessing.official(s.imgSize(), 0.875f);
        if (s.inChans() == 3) return new EvalPreprocessing(3, s.imgSize(), 0, rgb.filter(), rgb.mean(), rgb.std());
        return new EvalPreprocessing(1, s.imgSize(), 0, rgb.filter(), new float[] {0.449f}, new float[] {0.226f});
    }

    /** The same model and preprocessing with another pixel limit for decoded files. */
    public Predictor withMaxImagePixels(long maxPixels) {
        return new Predictor(model, classNames, preprocessing, maxPixels);
    }

    public VisionModel model() {
        return model;
    }

    public List<String> classNames() {
        return classNames;
    }

    public EvalPreprocessing preprocessing() {
        return preprocessing;
    }

    public long maxImagePixels() {
        return maxImagePixels;
    }

    /** The preprocessed image as a (1, C, S, S) tensor. */
    public Tensor preprocess(BufferedImage img) {
        int s = preprocessing.size();
        return Tensor.of(preprocessing.apply(img), 1, preprocessing.channels(), s, s);
    }

    /** A float image in [0, 1] (as the datasets give), preprocessed to a (1, C, S, S) tensor. */
    public Tensor preprocess(Image img) {
        int s = preprocessing.size();
        return Tensor.of(preprocessing.apply(img), 1, preprocessing.channels(), s, s);
    }

    /** Decodes a file (pixel limit checked from its header first) and classifies it. */
    public List<Prediction> predict(Path imageFile, int topK) throws IOException {
        return predict(Images.readBuffered(imageFile, maxImagePixels), topK);
    }

    public List<Prediction> predict(BufferedImage img, int topK) {
        return classify(preprocess(img), topK);
    }

    /** Top-k of a preprocessed (1, C, S, S) input. */
    public List<Prediction> classify(Tensor input, int topK) {
        return classifyBatch(input, topK).get(0);
    }

    /** Top-k of each image of a preprocessed (N, C, S, S) batch, in one forward pass (list i: image i). */
    public List<List<Prediction>> classifyBatch(Tensor input, int topK) {
        Tensor probs;
        try (var g = Tape.noGrad()) {
            probs = Softmax.forward(model.forward(input));
        }
        return topKRows(probs, input.dim(0), topK);
    }

    /** The top-k of each image of a batch and the backbone's outputs, from one forward pass. */
    public record Classified(List<List<Prediction>> top, Features features) {}

    /** As {@link #classifyBatch}, keeping the stage maps and pooled features that fed the head. */
    public Classified classifyWithFeatures(Tensor input, int topK) {
        Features f;
        Tensor probs;
        try (var g = Tape.noGrad()) {
            f = model.forwardFeatures(input);
            probs = Softmax.forward(model.head(f.pooled()));
        }
        return new Classified(topKRows(probs, input.dim(0), topK), f);
    }

    private List<List<Prediction>> topKRows(Tensor probs, int n, int k) {
        int classes = probs.numel() / n;
        List<List<Prediction>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(topK(java.util.Arrays.copyOfRange(probs.data, i * classes, (i + 1) * classes), k));
        return out;
    }

    /** The four stage maps and the pooled features of a preprocessed (N, C, S, S) batch. */
    public Features features(Tensor input) {
        try (var g = Tape.noGrad()) {
            return model.forwardFeatures(input);
        }
    }

    /** The four stage maps and the pooled features of an image file (decoded with the pixel limit). */
    public Features features(Path imageFile) throws IOException {
        return features(Images.readBuffered(imageFile, maxImagePixels));
    }

    public Features features(BufferedImage img) {
        return features(preprocess(img));
    }

    /** The k most probable classes of a probability vector, most probable first. */
    public List<Prediction> topK(float[] p, int k) {
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
