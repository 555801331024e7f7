package org.mambavision.models.flat;

/**
 * The flat hybrid: patchify, {@code depth} pre-norm blocks of which the first round(depth * mambaRatio)
 * use the MambaVision mixer and the rest attention, final LayerNorm, mean pool, linear head.
 */
public record FlatConfig(String name, int embedDim, int depth, int heads, float mambaRatio, int dState, int patchSize,
                         int imgSize, float mlpRatio, float dropPathRate, Float layerScale, int inChans, int numClasses) {
    public FlatConfig {
        if (embedDim % heads != 0) throw new IllegalArgumentException(name + ": embed_dim " + embedDim + " not divisible by heads " + heads);
        if (embedDim % 2 != 0) throw new IllegalArgumentException(name + ": embed_dim must be even (the mixer splits channels in half)");
        if (depth < 1) throw new IllegalArgumentException(name + ": depth must be >= 1");
        if (mambaRatio < 0 || mambaRatio > 1) throw new IllegalArgumentException(name + ": mamba_ratio must be in [0, 1], got " + mambaRatio);
        if (patchSize < 1 || imgSize % patchSize != 0) throw new IllegalArgumentException(name + ": img_size " + imgSize + " is not a multiple of patch_size " + patchSize);
        if (dState < 1) throw new IllegalArgumentException(name + ": d_state must be >= 1");
    }

    public int mambaBlocks() {
        return Math.round(depth * mambaRatio);
    }

    public FlatConfig with(int inChans, int numClasses, int imgSize, float dropPathRate, Float layerScale,
                           Integer depthOverride, Float ratio, Integer dState, Integer patch) {
        return new FlatConfig(name, embedDim, depthOverride != null ? depthOverride : depth, heads,
                ratio != null ? ratio : mambaRatio, dState != null ? dState : this.dState, patch != null ? patch : patchSize,
                imgSize, mlpRatio, dropPathRate, layerScale, inChans, numClasses);
    }
}
