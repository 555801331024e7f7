package org.mambavision.training.optim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tensor;

/** Global gradient-norm clipping (torch.nn.utils.clip_grad_norm_) and finiteness checks. Parameters without a gradient are skipped. */
public final class GradClip {
    private GradClip() {}

    /**
     * The L2 norm of all gradients together, computed in double in a fixed order (deterministic on
     * any thread count). If it exceeds {@code maxNorm}, every gradient is multiplied by
     * maxNorm / (norm + 1e-6), as torch does. A non-finite norm is returned as is and, like torch,
     * the gradients are scaled by the resulting coefficient; check {@link #allFinite} first to skip such a step.
     *
     * @return the total norm before clipping
     */
    public static double clipGlobalNorm(Collection<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("GradClip: maxNorm must be > 0, got " + maxNorm);
        List<float[]> grads = grads(params);
        ParamChunks chunks = chunks(grads);
        double norm = norm(grads, chunks);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1 || Double.isNaN(coef)) {
            float c = (float) coef;
            Parallel.forEach(chunks.count(), k -> OptimKernels.scale(grads.get(chunks.owner[k]), chunks.start[k], chunks.end[k], c));
        }
        return norm;
    }

    /** The L2 norm of all gradients together, in double, without changing them. */
    public static double globalNorm(Collection<Tensor> params) {
        List<float[]> grads = grads(params);
        return norm(grads, chunks(grads));
    }

    /** True when every gradient value is finite (no NaN or infinity); parameters without a gradient pass. */
    public static boolean allFinite(Collection<Tensor> params) {
        List<float[]> grads = grads(params);
        ParamChunks chunks = chunks(grads);
        boolean[] ok = new boolean[chunks.count()];
        Parallel.forEach(chunks.count(), k -> ok[k] = OptimKernels.allFinite(grads.get(chunks.owner[k]), chunks.start[k], chunks.end[k]));
        for (boolean b : ok) if (!b) return false;
        return true;
    }

    private static double norm(List<float[]> grads, ParamChunks chunks) {
        double[] partial = new double[chunks.count()];
        Parallel.forEach(chunks.count(), k -> partial[k] = OptimKernels.sumSquares(grads.get(chunks.owner[k]), chunks.start[k], chunks.end[k]));
        return Math.sqrt(ParamChunks.sumAll(partial));
    }

    private static List<float[]> grads(Collection<Tensor> params) {
        List<float[]> out = new ArrayList<>();
        for (Tensor t : params) if (t.grad != null) out.add(t.grad);
        return out;
    }

    private static ParamChunks chunks(List<float[]> grads) {
        int[] len = new int[grads.size()];
        for (int i = 0; i < len.length; i++) len[i] = grads.get(i).length;
        return ParamChunks.of(len);
    }
}
