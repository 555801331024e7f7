package org.mambavision.models.nn;

import org.mambavision.engine.Tensor;

/** nn.LayerNorm over the last dimension. */
public final class LayerNorm extends Module {
    public final Tensor weight, bias;
    public final float eps;

    public LayerNorm(int dim, float eps) {
        this.eps = eps;
        this.weight = param("weight", Tensor.full(1f, dim));
        this.bias = param("bias", Tensor.zeros(dim));
    }

    public Tensor forward(Tensor x) {
        return org.mambavision.engine.ops.LayerNorm.forward(x, weight, bias, eps);
    }
}
