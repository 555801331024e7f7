package org.mambavision.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.mambavision.engine.Tensor;

/**
 * The exchanges of a distributed {@link Trainer} over its {@link ProcessGroup}: the gradients of the trainable
 * parameters (before an optimizer step) with the batch's loss sum, hit count and stop flag, in one all-reduce; rank 0's
 * buffers (BatchNorm running statistics) before an evaluation; the sums of an evaluation of each process's part of the
 * validation set.
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
     * Gives every process rank 0's values of {@code tensors} (an all-reduce to which the others add zeros, so the
     * result is rank 0's bits). Every process calls it with tensors of the same sizes; none: no exchange.
     */
    void broadcastFromRankZero(Collection<Tensor> tensors) {
        long n = 0;
        for (Tensor t : tensors) n += t.numel();
        if (n == 0) return;
        float[] b = new float[Math.toIntExact(n)];
        int off = 0;
        for (Tensor t : tensors) {
            if (group.rank() == 0) System.arraycopy(t.data, 0, b, off, t.numel());
            off += t.numel();
        }
        allReduce(b);
        off = 0;
        for (Tensor t : tensors) {
            System.arraycopy(b, off, t.data, 0, t.numel());
            off += t.numel();
        }
    }

    /** The group's evaluation from each process's evaluation of its part of the validation set (the same on every process). */
    Evaluator.Result combine(Evaluator.Result part) {
        int k = part.confusion().length, n = part.samples();
        float[] b = new float[4 + k * k];
        b[0] = n == 0 ? 0 : (float) (part.loss() * n);
        b[1] = n == 0 ? 0 : Math.round(part.top1() * n);
        b[2] = n == 0 ? 0 : Math.round(part.top5() * n);
        b[3] = n;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) b[4 + i * k + j] = part.confusion()[i][j];
        allReduce(b);
        int total = Math.round(b[3]);
        int[][] confusion = new int[k][k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) confusion[i][j] = Math.round(b[4 + i * k + j]);
        return new Evaluator.Result(total == 0 ? Double.NaN : b[0] / (double) total, total == 0 ? Double.NaN : Math.round(b[1]) / (double) total,
                total == 0 ? Double.NaN : Math.round(b[2]) / (double) total, total, confusion);
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
