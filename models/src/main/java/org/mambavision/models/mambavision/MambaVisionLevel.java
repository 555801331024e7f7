package org.mambavision.models.mambavision;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Pad;
import org.mambavision.engine.ops.Windows;
import org.mambavision.models.blocks.Block;
import org.mambavision.models.blocks.StochasticDepth;
import org.mambavision.models.nn.Conv2dLayer;
import org.mambavision.models.nn.Module;
import org.mambavision.models.nn.ModuleList;

/**
 * One level of the hierarchy (official {@code MambaVisionLayer}). Conv levels run {@link ConvBlock}s on
 * the map; token levels zero-pad right/bottom to the window size, partition into windows (padded tokens
 * take part in scan and attention, as upstream), run the blocks, reverse and crop.
 * The optional downsample is a bias-free 3x3 stride-2 conv.
 */
final class MambaVisionLevel extends Module {
    final boolean conv;
    final int windowSize;
    final List<ConvBlock> convBlocks = new ArrayList<>();
    final List<Block> blocks = new ArrayList<>();
    final Conv2dLayer downsample;

    MambaVisionLevel(int dim, int depth, int heads, int windowSize, boolean conv, boolean downsample, float mlpRatio,
                     float[] dpr, int dprOffset, Float layerScale, StochasticDepth sd, SplittableRandom rng) {
        this.conv = conv;
        this.windowSize = windowSize;
        ModuleList access = child("blocks", new ModuleList());
        int firstAttention = depth % 2 != 0 ? depth / 2 + 1 : depth / 2;
        for (int i = 0; i < depth; i++) {
            int globalIndex = dprOffset + i;
            if (conv) {
                convBlocks.add(access.add(String.valueOf(i), new ConvBlock(dim, dpr[globalIndex], sd, globalIndex, rng)));
            } else {
                blocks.add(access.add(String.valueOf(i), new Block(dim, i >= firstAttention, heads, 8, mlpRatio, dpr[globalIndex],
                        layerScale, sd, globalIndex, rng)));
            }
        }
        if (downsample) {
            ModuleList reduction = child("downsample", new ModuleList()).add("reduction", new ModuleList());
            this.downsample = reduction.add("0", new Conv2dLayer(dim, 2 * dim, 3, 2, 1, false, rng));
        } else {
            this.downsample = null;
        }
    }

    /** Runs the blocks; returns the map before the downsample. */
    Tensor forwardBlocks(Tensor x) {
        if (conv) {
            for (ConvBlock b : convBlocks) x = b.forward(x);
            return x;
        }
        int h = x.dim(2), w = x.dim(3), ws = windowSize;
        int padR = (ws - w % ws) % ws, padB = (ws - h % ws) % ws;
        Tensor t = Pad.zeroPad2d(x, 0, padR, 0, padB);
        int hp = h + padB, wp = w + padR;
        t = Windows.partition(t, ws);
        for (Block b : blocks) t = b.forward(t);
        t = Windows.reverse(t, ws, hp, wp);
        if (padR > 0 || padB > 0) t = Pad.crop2d(t, 0, 0, h, w);
        return t;
    }

    Tensor downsample(Tensor x) {
        return downsample == null ? x : downsample.forward(x);
    }
}
