package org.mambavision.training;

import java.io.IOException;

/**
 * The processes of a data-parallel run across machines (or JVMs): each runs the same {@link Trainer} on its own
 * shard of every global batch, and the gradients are summed over the group before every optimizer step, so that
 * every replica takes the same step (see {@link Trainer#distributed}).
 *
 * <p>{@link #allReduceSum} must give every process the same bits (for example a ring all-reduce, where each element
 * is summed once, in a fixed order, and then copied to the others): the replicas then stay identical without ever
 * exchanging weights.
 */
public interface ProcessGroup {
    /** This process's place in the group, 0 to size() - 1; rank 0 writes the run directory. */
    int rank();

    /** The number of processes. */
    int size();

    /**
     * Replaces {@code buffer} with the element-wise sum of every process's buffer (all of the same length); every
     * process must call it the same number of times, in the same order. An IOException when a peer fails or does
     * not answer within the group's timeout.
     */
    void allReduceSum(float[] buffer) throws IOException;

    /** A group of one: the sum is the buffer itself. */
    static ProcessGroup single() {
        return new ProcessGroup() {
            @Override
            public int rank() { return 0; }

            @Override
            public int size() { return 1; }

            @Override
            public void allReduceSum(float[] buffer) {}
        };
    }
}
