package org.mambavision.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.mambavision.engine.Tensor;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.models.nn.Module;
import org.mambavision.training.checkpoint.TrainCheckpoint;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.optim.LayerDecay;
import org.mambavision.training.optim.ParamGroups;

/** Starting a run from pretrained weights: loading them with a report, and freezing the backbone (linear probing). */
public final class FineTuning {
    /** The {@code freeze} value that trains only the head. */
    public static final String BACKBONE = "backbone";

    private FineTuning() {}

    /**
     * Loads {@code file} (an official .pth.tar or .safetensors, a converted file, or one of our training checkpoints,
     * whose model tensors are used and whose optimizer and EMA state are not) into {@code model} as fine-tuning
     * weights: see {@link Weights#loadPretrained}. A backbone that does not match is an IllegalArgumentException
     * naming the file and the first differences unless {@code strict} is false.
     */
    public static Weights.LoadReport loadPretrained(VisionModel model, Path file, boolean strict) throws IOException {
        if (!Files.isRegularFile(file)) throw new java.io.FileNotFoundException("pretrained: " + file + ": no such file");
        Map<String, Tensor> tensors = TrainCheckpoint.isCheckpoint(file) ? TrainCheckpoint.read(file).model() : Weights.read(file);
        try {
            return Weights.loadPretrained(model, tensors, strict);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("pretrained " + file + ": " + e.getMessage()
                    + " (pretrained_strict: false loads the tensors that match)", e);
        }
    }

    /**
     * {@code freeze: backbone}: every parameter but the classifier head stops requiring a gradient, so the tape records
     * no backward through the backbone and the optimizer leaves those parameters out entirely.
     */
    public static void freeze(VisionModel model, String freeze) {
        if (!BACKBONE.equals(freeze)) return;
        model.namedParameters().forEach((name, t) -> {
            if (!name.startsWith(Weights.HEAD_PREFIX)) t.requiresGrad(false);
        });
    }

    /**
     * Training mode for an epoch. With a frozen backbone only the head trains: the backbone runs in eval mode, so its
     * BatchNorm statistics stay those of the pretrained weights and no drop path perturbs the features.
     */
    public static void trainMode(VisionModel model, String freeze) {
        model.train(true);
        if (!BACKBONE.equals(freeze)) return;
        ((Module) model).children().forEach((name, child) -> {
            if (!(name + ".").equals(Weights.HEAD_PREFIX)) child.train(false);
        });
    }

    /**
     * The optimizer's parameter groups: the trainable parameters (all but a frozen backbone) with and without weight
     * decay, with layer-wise learning-rate decay when {@code layer_decay} is set; says what it did on {@code log}.
     */
    public static ParamGroups paramGroups(VisionModel model, TrainConfig cfg, Consumer<String> log) {
        ParamGroups groups = ParamGroups.of(model.namedParameters());
        if (BACKBONE.equals(cfg.freeze)) {
            log.accept(String.format(Locale.ROOT, "freeze: backbone: training the head only (%,d of %,d parameters); the backbone runs in eval mode",
                    groups.numel(), model.numParams()));
        }
        if (cfg.layerDecay != null && cfg.layerDecay != 1.0) {
            groups = groups.withLayerDecay(cfg.layerDecay);
            int blocks = LayerDecay.layers(model.namedParameters().keySet()).numLayers();
            log.accept(String.format(Locale.ROOT, "layer_decay %s: %d blocks; the stem trains at %.3g x lr, the head at 1 x lr",
                    cfg.layerDecay, blocks, Math.pow(cfg.layerDecay, blocks + 1)));
        }
        return groups;
    }
}
