package org.mambavision.models.flat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Reduce;
import org.mambavision.engine.ops.Shapes;
import org.mambavision.models.ClassifierBase;
import org.mambavision.models.Features;
import org.mambavision.models.blocks.Block;
import org.mambavision.models.blocks.DropPathSchedule;
import org.mambavision.models.nn.Conv2dLayer;
import org.mambavision.models.nn.LayerNormLayer;
import org.mambavision.models.nn.LinearLayer;
import org.mambavision.models.nn.ModuleList;
import org.mambavision.models.nn.Profiler;

/**
 * A flat (single-resolution) Mamba-Transformer hybrid in the spirit of the educational MambaVision.
 * No position embedding: the early Mamba blocks scan the tokens in raster order, which gives the
 * later attention blocks position information, and any resolution divisible by the patch size works.
 */
public final class FlatMambaVision extends ClassifierBase {
    private final FlatConfig cfg;
    private final Conv2dLayer patchEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNormLayer norm;
    private final LinearLayer head;

    public FlatMambaVision(FlatConfig cfg, long seed) {
        super(cfg.name(), cfg.numClasses(), cfg.inChans(), cfg.imgSize(), 1f, seed);
        this.cfg = cfg;
        SplittableRandom rng = new SplittableRandom(seed);
        patchEmbed = child("patch_embed", new ModuleList()).add("proj",
                new Conv2dLayer(cfg.inChans(), cfg.embedDim(), cfg.patchSize(), cfg.patchSize(), 0, true, rng));
        ModuleList list = child("blocks", new ModuleList());
        int mamba = cfg.mambaBlocks();
        float[] dpr = DropPathSchedule.linear(cfg.dropPathRate(), cfg.depth());
        for (int i = 0; i < cfg.depth(); i++) {
            blocks.add(list.add(String.valueOf(i), new Block(cfg.embedDim(), i >= mamba, cfg.heads(), cfg.dState(), cfg.mlpRatio(),
                    dpr[i], cfg.layerScale(), sd, i, rng)));
        }
        norm = child("norm", new LayerNormLayer(cfg.embedDim(), 1e-5f));
        head = child("head", new LinearLayer(cfg.embedDim(), cfg.numClasses(), true, rng));
    }

    public FlatConfig config() {
        return cfg;
    }


    @Override
    public Tensor forward(Tensor images) {
        return head(forwardFeatures(images).pooled());
    }

    @Override
    public Tensor head(Tensor pooled) {
        Tensor logits = head.forward(pooled);
        Profiler.layer(head, logits);
        return logits;
    }

    @Override
    public Features forwardFeatures(Tensor x) {
        int p = cfg.patchSize();
        if (x.rank() != 4 || x.dim(1) != cfg.inChans() || x.dim(2) % p != 0 || x.dim(3) % p != 0 || x.dim(2) == 0 || x.dim(3) == 0) {
            throw new IllegalArgumentException(cfg.name() + ": expected input (B, " + cfg.inChans() + ", H, W) with H and W multiples of "
                    + p + ", got " + x.shapeString());
        }
        if (training()) sd.nextCall();
        int b = x.dim(0), gh = x.dim(2) / p, gw = x.dim(3) / p;
        Tensor map = patchEmbed.forward(x);                                            // (B, C, gh, gw)
        Profiler.layer(patchEmbed, map);
        Tensor t = Shapes.transpose(map.reshape(b, cfg.embedDim(), gh * gw), 1, 2);   // (B, N, C)
        for (Block blk : blocks) t = blk.forward(t);
        t = norm.forward(t);
        Profiler.layer(norm, t);
        Tensor pooled = Reduce.mean(t, false, 1);
        Tensor stage = Shapes.transpose(t, 1, 2).reshape(b, cfg.embedDim(), gh, gw);
        return new Features(List.of(stage), pooled);
    }





}
