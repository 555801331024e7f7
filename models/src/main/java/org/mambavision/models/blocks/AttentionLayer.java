package org.mambavision.models.blocks;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Attention;
import org.mambavision.models.nn.LinearLayer;
import org.mambavision.models.nn.Module;

/** Multi-head self-attention on tokens (B, N, C): qkv (with bias), fused softmax attention, proj. */
public final class AttentionLayer extends Module {
    final LinearLayer qkv, proj;
    final int heads;
    final float scale;

    public AttentionLayer(int dim, int heads, SplittableRandom rng) {
        if (dim % heads != 0) throw new IllegalArgumentException("AttentionLayer: dim " + dim + " not divisible by heads " + heads);
        this.heads = heads;
        this.scale = (float) Math.pow(dim / heads, -0.5);
        qkv = child("qkv", new LinearLayer(dim, 3 * dim, true, rng));
        proj = child("proj", new LinearLayer(dim, dim, true, rng));
    }

    public Tensor forward(Tensor x) {
        long n = x.dim(1);
        org.mambavision.models.nn.Profiler.addMacs(2L * x.dim(0) * n * n * x.dim(2)); // q k^T and p v
        Tensor y = Attention.qkvAttention(qkv.forward(x), heads, scale);
        return proj.forward(y);
    }
}
