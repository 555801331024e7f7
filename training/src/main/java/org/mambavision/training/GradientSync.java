package org.mambavision.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.mambavision.engine.Tensor;

/**
 * The exchanges of a distributed {@link Trainer} step over its {@link ProcessGroup}: the gradients of the trainable
 * parameters (before an optimizer step) with the batch's loss sum, hit count and stop flag, in one all-reduce.
 */
final class GradientSync {
    /** The group's sums for one batch: summed loss (mean loss times images), hits, whether any process asked to stop. */
    record Totals(double lossSum, long correct, boolean stop) {}

    private static final int STATS = 3;

    private final ProcessGroup group;
    private final List<Tensor> trainable = new ArrayList<>();
    private final float[] statsOnly = new float[STATS];
    private float[] buffer;

    GradientSync(ProcessGroup group, Collection<Tensor> params) {
        this.group = group;
        for (Tensor p : params) if (p.requiresGrad()) trainable.add(p);
    }

    /**
     * Sums this process's batch statistics over the group and, when {@code withGradients}, every trainable
     * parameter's gradient, which is replaced by the group's sum.
     */
    Totals reduce(double lossSum, int correct, boolean stop, boolean withGradients) {
        float[] b = statsOnly;
        if (withGradients) {
            if (buffer == null) {
                long n = STATS;
                for (Tensor p : trainable) n += p.numel();
                if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("the gradients (" + n + " values) do not fit one buffer");
                buffer = new float[(int) n];
            }
            b = buffer;
            int off = STATS;
            for (Tensor p : trainable) {
                System.arraycopy(p.gradBuffer(), 0, b, off, p.numel());
                off += p.numel();
            }
        }
        b[0] = (float) lossSum;
        b[1] = correct;
        b[2] = stop ? 1 : 0;
        allReduce(b);
        if (withGradients) {
            int off = STATS;
            for (Tensor p : trainable) {
                System.arraycopy(b, off, p.gradBuffer(), 0, p.numel());
                off += p.numel();
            }
        }
        return new Totals(b[0], Math.round(b[1]), b[2] > 0);
    }

    /**
     * Checks that every process holds the same {@code value} (the optimizer step a resumed run starts from): an
     * IllegalStateException naming {@code what} when they differ, on the processes that see the difference.
     */
    void agree(long value, String what) {
        long v = value & 0xFFFFF; // exact in a float even when summed over a thousand processes
        float[] b = {v, -v};
        allReduce(b);
        float expected = (float) v * group.size();
        if (b[0] != expected || b[1] != -expected) {
            throw new IllegalStateException("rank " + group.rank() + " has " + what + " " + value + " but the group does not ("
                    + b[0] / group.size() + " on average): the processes did not start from the same checkpoint");
        }
    }

    private void allReduce(float[] b) {
        try {
            group.allReduceSum(b);
        } catch (IOException e) {
            throw new UncheckedIOException("data-parallel all-reduce (rank " + group.rank() + " of " + group.size() + "): " + e.getMessage(), e);
        }
    }
}
