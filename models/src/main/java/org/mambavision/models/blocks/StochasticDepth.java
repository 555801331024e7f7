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

    public StochasticDepth(long seed) {
        this.seed = seed;
    }

    /** Called once per model forward in training mode. */
    public void nextCall() {
        calls++;
    }

    public SplittableRandom rngFor(int blockIndex) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + calls * 1_000_003L + blockIndex);
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
