package org.mambavision.models.nn;

import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.BatchNorm2d;

/** nn.BatchNorm2d (affine, tracking running stats, momentum 0.1). */
public final class BatchNorm2dLayer extends Module {
    public static final float MOMENTUM = 0.1f;
    public final Tensor weight, bias, runningMean, runningVar, numBatchesTracked;
    public final float eps;

    public BatchNorm2dLayer(int channels, float eps) {
        this.eps = eps;
        this.weight = param("weight", Tensor.full(1f, channels));
        this.bias = param("bias", Tensor.zeros(channels));
        this.runningMean = buffer("running_mean", Tensor.zeros(channels));
        this.runningVar = buffer("running_var", Tensor.full(1f, channels));
        this.numBatchesTracked = buffer("num_batches_tracked", Tensor.zeros());
    }

    public Tensor forward(Tensor x) {
        if (training()) numBatchesTracked.data[0] += 1;
        return BatchNorm2d.forward(x, weight, bias, runningMean, runningVar, training(), MOMENTUM, eps);
    }
}
