package org.mambavision.models.nn;

import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.LayerNorm;

/** nn.LayerNorm over the last dimension. */
public final class LayerNormLayer extends Module {
    public final Tensor weight, bias;
    public final float eps;

    public LayerNormLayer(int dim, float eps) {
        this.eps = eps;
        this.weight = param("weight", Tensor.full(1f, dim));
        this.bias = param("bias", Tensor.zeros(dim));
    }

    public Tensor forward(Tensor x) {
        return LayerNorm.forward(x, weight, bias, eps);
    }
}
