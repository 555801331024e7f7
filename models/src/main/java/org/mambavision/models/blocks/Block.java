package org.mambavision.models.blocks;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.DropPath;
import org.mambavision.models.nn.LayerNormLayer;
import org.mambavision.models.nn.Module;

/**
 * The official pre-norm {@code Block}: x + drop_path(gamma_1 * mixer(norm1(x))), then the same with the MLP.
 * The mixer is a {@link MambaVisionMixer} or an {@link AttentionLayer}.
 */
public final class Block extends Module {
    final LayerNormLayer norm1, norm2;
    final Module mixer;
    final Mlp mlp;
    final Tensor gamma1, gamma2;
    final float dropPath;
    final StochasticDepth sd;
    final int index;
    private boolean checkpointing;

    public Block(int dim, boolean attention, int heads, int dState, float mlpRatio, float dropPath, Float layerScale,
                 StochasticDepth sd, int index, SplittableRandom rng) {
        this.dropPath = dropPath;
        this.sd = sd;
        this.index = index;
        norm1 = child("norm1", new LayerNormLayer(dim, 1e-5f));
        mixer = child("mixer", attention ? new AttentionLayer(dim, heads, rng) : new MambaVisionMixer(dim, dState, 3, rng));
        norm2 = child("norm2", new LayerNormLayer(dim, 1e-5f));
        mlp = child("mlp", new Mlp(dim, (int) (dim * mlpRatio), rng));
        gamma1 = layerScale != null ? param("gamma_1", Tensor.full(layerScale, dim)) : null;
        gamma2 = layerScale != null ? param("gamma_2", Tensor.full(layerScale, dim)) : null;
    }

    public boolean isAttention() {
        return mixer instanceof AttentionLayer;
    }

    /** Recompute this block's activations in the backward instead of keeping them (training memory). */
    public void setCheckpointing(boolean on) {
        checkpointing = on;
    }

    /** x: (B, N, C). */
    public Tensor forward(Tensor x) {
        if (checkpointing && training()) return org.mambavision.engine.Tape.checkpoint(this::compute, x);
        return compute(x);
    }

    private Tensor compute(Tensor x) {
        Tensor h = norm1.forward(x);
        h = mixer instanceof AttentionLayer att ? att.forward(h) : ((MambaVisionMixer) mixer).forward(h);
        x = residual(x, h, gamma1, 0);
        Tensor m = mlp.forward(norm2.forward(x));
        return traced(residual(x, m, gamma2, 1));
    }

    /** x + drop_path(gamma * branch). */
    private Tensor residual(Tensor x, Tensor branch, Tensor gamma, int which) {
        if (gamma != null) branch = Arith.mul(branch, gamma);
        return DropPath.addForward(x, branch, dropPath, training(), sd.rngFor(2 * index + which));
    }
}
