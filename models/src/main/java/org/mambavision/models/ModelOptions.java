package org.mambavision.models;

/**
 * Overrides for a preset; null keeps the preset's value. The flat-only fields are ignored by the
 * hierarchical models.
 */
public record ModelOptions(Integer inChans, Integer numClasses, Float dropPathRate, Float layerScale, Integer imgSize,
                           Integer depth, Float mambaRatio, Integer dState, Integer patchSize, long seed) {
    public static ModelOptions defaults() {
        return new ModelOptions(null, null, null, null, null, null, null, null, null, 0L);
    }

    public ModelOptions withClasses(int n) {
        return new ModelOptions(inChans, n, dropPathRate, layerScale, imgSize, depth, mambaRatio, dState, patchSize, seed);
    }

    public ModelOptions withInChans(int c) {
        return new ModelOptions(c, numClasses, dropPathRate, layerScale, imgSize, depth, mambaRatio, dState, patchSize, seed);
    }

    public ModelOptions withImgSize(int s) {
        return new ModelOptions(inChans, numClasses, dropPathRate, layerScale, s, depth, mambaRatio, dState, patchSize, seed);
    }

    public ModelOptions withDropPath(float r) {
        return new ModelOptions(inChans, numClasses, r, layerScale, imgSize, depth, mambaRatio, dState, patchSize, seed);
    }

    public ModelOptions withSeed(long s) {
        return new ModelOptions(inChans, numClasses, dropPathRate, layerScale, imgSize, depth, mambaRatio, dState, patchSize, s);
    }

    public ModelOptions withFlat(Integer depth, Float mambaRatio, Integer dState, Integer patchSize) {
        return new ModelOptions(inChans, numClasses, dropPathRate, layerScale, imgSize, depth, mambaRatio, dState, patchSize, seed);
    }

    public ModelOptions withLayerScale(Float ls) {
        return new ModelOptions(inChans, numClasses, dropPathRate, ls, imgSize, depth, mambaRatio, dState, patchSize, seed);
    }
}
