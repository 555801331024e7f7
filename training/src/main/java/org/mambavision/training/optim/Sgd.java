package org.mambavision.training.optim;

import org.mambavision.engine.Parallel;

/**
 * torch.optim.SGD: d = g + wd p (coupled decay); with momentum, buf = d on the first step, then
 * buf = momentum buf + (1 - dampening) d, and d = nesterov ? d + momentum buf : buf; p -= lr d.
 *
 * <p>State: {@code momentum_buffer.<name>} (none when momentum is 0).
 */
public final class Sgd extends BaseOptimizer {
    private static final int BUF = 0;
    private final double momentum, dampening;
    private final boolean nesterov;

    public Sgd(ParamGroups groups, double momentum, double weightDecay, boolean nesterov) {
        this(groups, momentum, 0, weightDecay, nesterov);
    }

    public Sgd(ParamGroups groups, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super(groups, weightDecay, "momentum_buffer");
        if (!(momentum >= 0) || Double.isInfinite(momentum)) throw new IllegalArgumentException("Sgd: momentum must be finite and >= 0, got " + momentum);
        if (!(dampening >= 0 && dampening <= 1)) throw new IllegalArgumentException("Sgd: dampening must be in [0, 1], got " + dampening);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Sgd: nesterov needs momentum > 0 and dampening 0, got momentum " + momentum + ", dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
    }

    @Override
    void update(float lr, int[] active, ParamChunks chunks) {
        if (momentum == 0) {
            Parallel.forEach(chunks.count(), c -> {
                int i = active[chunks.owner[c]];
                OptimKernels.sgdPlain(tensors[i].data, tensors[i].grad, chunks.start[c], chunks.end[c], (float) (lr * lrScale[i]),
                        (float) weightDecay[i]);
            });
            return;
        }
        boolean[] init = new boolean[active.length];
        for (int k = 0; k < active.length; k++) {
            init[k] = slots[BUF][active[k]] == null;
            slot(BUF, active[k]);
        }
        float mom = (float) momentum, oneMinusDamp = (float) (1 - dampening);
        float outD = nesterov ? 1f : 0f, outBuf = nesterov ? mom : 1f;
        Parallel.forEach(chunks.count(), c -> {
            int k = chunks.owner[c], i = active[k];
            // First step: buf = d (torch clones the gradient into the new buffer).
            OptimKernels.sgdMomentum(tensors[i].data, tensors[i].grad, slots[BUF][i], chunks.start[c], chunks.end[c], (float) (lr * lrScale[i]),
                    (float) weightDecay[i], init[k] ? 0f : mom, init[k] ? 1f : oneMinusDamp, outD, outBuf);
        });
    }
}
