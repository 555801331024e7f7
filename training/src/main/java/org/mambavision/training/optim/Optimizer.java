package org.mambavision.training.optim;

import java.util.Map;

/**
 * An optimizer over a fixed set of named parameters. Parameters whose {@code grad} is null at
 * {@link #step} are skipped (no state change), as in PyTorch.
 */
public interface Optimizer {
    /** One update with learning rate {@code lr} (from the schedule, per iteration). */
    void step(float lr);

    /** Drops every parameter's gradient (sets {@code grad} to null, like torch's set_to_none). */
    void zeroGrad();

    /**
     * Copies of the per-parameter state, keyed {@code <slot>.<parameter name>} (for example
     * {@code exp_avg.head.weight}); parameters that have never been updated have no entries.
     */
    Map<String, float[]> state();

    /**
     * Restores {@link #state()} and {@link #stepCount()} from a checkpoint; entries are copied.
     * Parameters without entries start fresh. Unknown keys or wrong lengths throw IllegalArgumentException.
     */
    void loadState(Map<String, float[]> state, long stepCount);

    /** Number of {@link #step} calls so far (including restored ones). */
    long stepCount();
}
