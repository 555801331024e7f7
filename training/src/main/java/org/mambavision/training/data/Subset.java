package org.mambavision.training.data;

import java.util.List;

/** A view of some samples of another dataset, by index. */
public final class Subset implements Dataset {
    private final Dataset base;
    private final int[] indices;

    public Subset(Dataset base, int[] indices) {
        for (int i : indices) {
            if (i < 0 || i >= base.size()) throw new IndexOutOfBoundsException("Subset of " + base.name() + ": index " + i + " out of 0.." + (base.size() - 1));
        }
        this.base = base;
        this.indices = indices.clone();
    }

    public Dataset base() { return base; }

    /** Index in the base dataset of this view's sample {@code i}. */
    public int sourceIndex(int i) { return indices[i]; }

    @Override public String name() { return base.name(); }

    @Override public int size() { return indices.length; }

    @Override public int numClasses() { return base.numClasses(); }

    @Override public List<String> classNames() { return base.classNames(); }

    @Override public List<String> skipped() { return base.skipped(); }

    @Override
    public Sample get(int index) {
        checkIndex(index);
        return base.get(indices[index]);
    }
}
