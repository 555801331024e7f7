package org.mambavision.models.mambavision;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Reduce;
import org.mambavision.models.ClassifierBase;
import org.mambavision.models.Features;
import org.mambavision.models.blocks.DropPathSchedule;
import org.mambavision.models.nn.BatchNorm2dLayer;
import org.mambavision.models.nn.Conv2dLayer;
import org.mambavision.models.nn.LinearLayer;
import org.mambavision.models.nn.ModuleList;
import org.mambavision.models.nn.Profiler;

/**
 * The hierarchical MambaVision of NVlabs (arXiv 2407.08083), computed as the official code does:
 * a two-conv stem (BatchNorm eps 1e-4), two conv levels, two levels of windowed Mamba-mixer blocks
 * followed by attention blocks, a final BatchNorm2dLayer, global average pool and a linear head.
 */
public final class MambaVision extends ClassifierBase {
    private final MambaVisionConfig cfg;
    private final Conv2dLayer stemConv1, stemConv2;
    private final BatchNorm2dLayer stemNorm1, stemNorm2;
    private final List<MambaVisionLevel> levels = new ArrayList<>();
    private final BatchNorm2dLayer norm;
    private final LinearLayer head;

    public MambaVision(MambaVisionConfig cfg, long seed) {
        super(cfg.name(), cfg.numClasses(), cfg.inChans(), cfg.imgSize(), cfg.cropPct(), seed);
        this.cfg = cfg;
        SplittableRandom rng = new SplittableRandom(seed);
        ModuleList convDown = child("patch_embed", new ModuleList()).add("conv_down", new ModuleList());
        stemConv1 = convDown.add("0", new Conv2dLayer(cfg.inChans(), cfg.inDim(), 3, 2, 1, false, rng));
        stemNorm1 = convDown.add("1", new BatchNorm2dLayer(cfg.inDim(), 1e-4f));
        stemConv2 = convDown.add("3", new Conv2dLayer(cfg.inDim(), cfg.dim(), 3, 2, 1, false, rng));
        stemNorm2 = convDown.add("4", new BatchNorm2dLayer(cfg.dim(), 1e-4f));
        int total = 0;
        for (int d : cfg.depths()) total += d;
        float[] dpr = DropPathSchedule.linear(cfg.dropPathRate(), total);
        ModuleList levelList = child("levels", new ModuleList());
        int offset = 0;
        for (int i = 0; i < 4; i++) {
            int dim = cfg.dim() << i;
            levels.add(levelList.add(String.valueOf(i), new MambaVisionLevel(dim, cfg.depths()[i], cfg.heads()[i], cfg.windows()[i],
                    i < 2, i < 3, cfg.mlpRatio(), dpr, offset, cfg.layerScale(), sd, rng)));
            offset += cfg.depths()[i];
        }
        norm = child("norm", new BatchNorm2dLayer(cfg.numFeatures(), 1e-5f));
        head = child("head", new LinearLayer(cfg.numFeatures(), cfg.numClasses(), true, rng));
    }

    public MambaVisionConfig config() {
        return cfg;
    }


    @Override
    public Tensor forward(Tensor images) {
        return forward(images, null);
    }

    /**
     * Forward pass that also records the official intermediate outputs into {@code trace} when it is not
     * null: {@code stem}, {@code level0..3} (each level's output, downsample included), {@code features}.
     */
    public Tensor forward(Tensor images, Map<String, Tensor> trace) {
        return head(features(images, trace).pooled());
    }

    @Override
    public Tensor head(Tensor pooled) {
        Tensor logits = head.forward(pooled);
        Profiler.layer(head, logits);
        return logits;
    }

    @Override
    public Features forwardFeatures(Tensor images) {
        return features(images, null);
    }

    private Features features(Tensor x, Map<String, Tensor> trace) {
        checkInput(x);
        if (training()) sd.nextCall();
        x = stemConv1.forwardWithBatchNorm(x, stemNorm1, Activations.Function.RELU, null);
        x = stemConv2.forwardWithBatchNorm(x, stemNorm2, Activations.Function.RELU, null);
        if (trace != null) trace.put("stem", x);
        Profiler.layer(children().get("patch_embed"), x);
        List<Tensor> stages = new ArrayList<>(4);
        for (int i = 0; i < 4; i++) {
            MambaVisionLevel level = levels.get(i);
            Tensor stage = level.forwardBlocks(x);
            stages.add(stage);
            x = level.downsample(stage);
            if (level.downsample != null) Profiler.layer(level.downsample, x);
            if (trace != null) trace.put("level" + i, x);
        }
        x = norm.forward(x);
        Profiler.layer(norm, x);
        Tensor pooled = Reduce.mean(x, false, 2, 3);
        if (trace != null) trace.put("features", pooled);
        return new Features(stages, pooled);
    }

    private void checkInput(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != cfg.inChans()) {
            throw new IllegalArgumentException(cfg.name() + ": expected input (B, " + cfg.inChans() + ", H, W), got " + x.shapeString());
        }
    }





}
