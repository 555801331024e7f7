package org.mambavision.models.blocks;

import java.util.SplittableRandom;

/**
 * Source of drop-path randomness for one model. Each (forward call, block) pair gets its own
 * generator derived from the seed, so a resumed run that restores {@link #calls()} draws the
 * same masks as an uninterrupted one.
 */
public final class StochasticDepth {
    private long seed;
    private long calls;
    /** Index of this model's first sample in the whole batch (a data-parallel shard's offset). */
    private int sampleOffset;

    public StochasticDepth(long seed) {
        this.seed = seed;
    }

    /** Called once per model forward in training mode. */
    public void nextCall() {
        calls++;
    }

    /**
     * The generator of one block in this forward call. Drop path draws one value per sample in sample
     * order, so a shard that starts at sample o skips o values: every sample gets the mask it would get
     * in the whole batch, however the batch is split.
     */
    public SplittableRandom rngFor(int blockIndex) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + calls * 1_000_003L + blockIndex);
        for (int i = 0; i < sampleOffset; i++) r.nextDouble();
        return r;
    }

    /** Makes this model's masks those of samples [offset, offset + B) of a larger batch (see {@link #rngFor}). */
    public void sampleOffset(int offset) {
        if (offset < 0) throw new IllegalArgumentException("sample offset " + offset + " < 0");
        this.sampleOffset = offset;
    }

    public long calls() {
        return calls;
    }

    public void restore(long seed, long calls) {
        this.seed = seed;
        this.calls = calls;
    }

    public long seed() {
        return seed;
    }
}
