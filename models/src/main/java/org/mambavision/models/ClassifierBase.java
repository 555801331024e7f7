package org.mambavision.models;

import org.mambavision.models.blocks.StochasticDepth;
import org.mambavision.models.nn.Module;

/** What both model families share: identity, input/output sizes and the drop-path randomness. */
public abstract class ClassifierBase extends Module implements VisionModel {
    private final String name;
    private final int numClasses, inChans, imgSize;
    private final float cropPct;
    protected final StochasticDepth sd;

    protected ClassifierBase(String name, int numClasses, int inChans, int imgSize, float cropPct, long seed) {
        this.name = name;
        this.numClasses = numClasses;
        this.inChans = inChans;
        this.imgSize = imgSize;
        this.cropPct = cropPct;
        this.sd = new StochasticDepth(seed ^ 0x5DEECE66DL);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int numClasses() {
        return numClasses;
    }

    @Override
    public final int inChans() {
        return inChans;
    }

    @Override
    public final int defaultImgSize() {
        return imgSize;
    }

    @Override
    public final float cropPct() {
        return cropPct;
    }

    @Override
    public final StochasticDepth stochasticDepth() {
        return sd;
    }
}
