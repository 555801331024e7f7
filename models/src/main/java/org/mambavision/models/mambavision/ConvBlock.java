package org.mambavision.models.mambavision;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.DropPath;
import org.mambavision.models.blocks.StochasticDepth;
import org.mambavision.models.nn.BatchNorm2dLayer;
import org.mambavision.models.nn.Conv2dLayer;
import org.mambavision.models.nn.Module;

/** Levels 0-1: conv3x3 -> BN -> tanh-GELU -> conv3x3 -> BN, plus the input (residual). */
final class ConvBlock extends Module {
    final Conv2dLayer conv1, conv2;
    final BatchNorm2dLayer norm1, norm2;
    final float dropPath;
    final StochasticDepth sd;
    final int index;

    ConvBlock(int dim, float dropPath, StochasticDepth sd, int index, SplittableRandom rng) {
        this.dropPath = dropPath;
        this.sd = sd;
        this.index = index;
        conv1 = child("conv1", new Conv2dLayer(dim, dim, 3, 1, 1, true, rng));
        norm1 = child("norm1", new BatchNorm2dLayer(dim, 1e-5f));
        conv2 = child("conv2", new Conv2dLayer(dim, dim, 3, 1, 1, true, rng));
        norm2 = child("norm2", new BatchNorm2dLayer(dim, 1e-5f));
    }

    Tensor forward(Tensor input) {
        Tensor x = conv1.forwardWithBatchNorm(input, norm1, Activations.Function.GELU_TANH, null);
        if (!training()) return traced(conv2.forwardWithBatchNorm(x, norm2, null, input)); // drop path is the identity
        x = conv2.forwardWithBatchNorm(x, norm2);
        return traced(Arith.add(input, DropPath.forward(x, dropPath, training(), sd.rngFor(2 * index))));
    }
}
