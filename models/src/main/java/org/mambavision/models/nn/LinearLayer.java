package org.mambavision.models.nn;

import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.ops.Linear;

/** nn.Linear: {@code weight} (out, in), optional {@code bias} (out). */
public final class LinearLayer extends Module {
    public final Tensor weight;
    public final Tensor bias;
    public final int in, out;

    public LinearLayer(int in, int out, boolean bias, SplittableRandom rng) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", Init.truncNormal(rng, 0.02f, out, in));
        this.bias = bias ? param("bias", Tensor.zeros(out)) : null;
    }

    /** Packed weight rows [r0, r1) by r0 << 32 | r1, while frozen for inference (built on first use). */
    private final ConcurrentHashMap<Long, Gemm.PackedB> packed = new ConcurrentHashMap<>();
    private volatile boolean frozen;

    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** act(x W^T + b), the activation fused into the product when no gradient is recorded (same bits). */
    public Tensor forward(Tensor x, org.mambavision.engine.ops.Activations.Function act) {
        Profiler.addMacs((long) (x.numel() / in) * in * out);
        return Linear.forward(x, weight, bias, packedRows(0, out), act);
    }

    /** The weight rows [r0, r1) packed as a GEMM's B operand (W^T), or null unless frozen for inference. */
    public Gemm.PackedB packedRows(int r0, int r1) {
        if (!frozen) return null;
        return packed.computeIfAbsent(((long) r0 << 32) | r1, k -> Gemm.packB(true, r1 - r0, in, weight.data, r0 * in, in));
    }

    @Override
    protected void frozen(boolean on) {
        frozen = on;
        if (!on) packed.clear();
    }
}
