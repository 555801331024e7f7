package org.mambavision.training.data;

import java.util.Arrays;

/** Seeded splits of a dataset into index views. */
public final class Splits {
    private Splits() {}

    /**
     * A seeded permutation of all indices; the first round(size * trainFraction) go to train, the rest to val.
     * Each part keeps ascending index order (cache-friendlier reads; the loader shuffles per epoch anyway).
     */
    public static Split trainVal(Dataset d, double trainFraction, long seed) {
        if (!(trainFraction >= 0 && trainFraction <= 1)) throw new IllegalArgumentException("Splits.trainVal: trainFraction must be in [0, 1], got " + trainFraction);
        int n = d.size();
        int[] perm = Rng.permutation(n, Rng.of(seed, 0x5B11));
        int nTrain = (int) Math.round(n * trainFraction);
        int[] train = Arrays.copyOfRange(perm, 0, nTrain), val = Arrays.copyOfRange(perm, nTrain, n);
        Arrays.sort(train);
        Arrays.sort(val);
        return new Split(new Subset(d, train), new Subset(d, val));
    }

    /** The first {@code n} samples of a seeded permutation (a random subset of size n, ascending). */
    public static Subset random(Dataset d, int n, long seed) {
        if (n < 0 || n > d.size()) throw new IllegalArgumentException("Splits.random: n " + n + " out of 0.." + d.size());
        int[] idx = Arrays.copyOf(Rng.permutation(d.size(), Rng.of(seed, 0x5B12)), n);
        Arrays.sort(idx);
        return new Subset(d, idx);
    }
}
