package org.mambavision.models.mambavision;

import java.util.Arrays;

/** Constructor arguments of the official {@code MambaVision} class, plus evaluation preprocessing. */
public record MambaVisionConfig(String name, int dim, int inDim, int[] depths, int[] heads, int[] windows,
                                float mlpRatio, float dropPathRate, Float layerScale, int inChans, int numClasses,
                                int imgSize, float cropPct) {
    public MambaVisionConfig {
        if (depths.length != 4 || heads.length != 4 || windows.length != 4) {
            throw new IllegalArgumentException(name + ": depths, heads and windows need 4 entries each, got "
                    + Arrays.toString(depths) + ", " + Arrays.toString(heads) + ", " + Arrays.toString(windows));
        }
        if (numClasses < 1 || inChans < 1) throw new IllegalArgumentException(name + ": num_classes and in_chans must be >= 1");
    }

    public MambaVisionConfig withClasses(int n) {
        return new MambaVisionConfig(name, dim, inDim, depths, heads, windows, mlpRatio, dropPathRate, layerScale, inChans, n, imgSize, cropPct);
    }

    public MambaVisionConfig withInChans(int c) {
        return new MambaVisionConfig(name, dim, inDim, depths, heads, windows, mlpRatio, dropPathRate, layerScale, c, numClasses, imgSize, cropPct);
    }

    public MambaVisionConfig withDropPath(float rate) {
        return new MambaVisionConfig(name, dim, inDim, depths, heads, windows, mlpRatio, rate, layerScale, inChans, numClasses, imgSize, cropPct);
    }

    public MambaVisionConfig withLayerScale(Float ls) {
        return new MambaVisionConfig(name, dim, inDim, depths, heads, windows, mlpRatio, dropPathRate, ls, inChans, numClasses, imgSize, cropPct);
    }

    public MambaVisionConfig withImgSize(int s) {
        return new MambaVisionConfig(name, dim, inDim, depths, heads, windows, mlpRatio, dropPathRate, layerScale, inChans, numClasses, s, cropPct);
    }

    public int numFeatures() {
        return dim * 8;
    }
}
