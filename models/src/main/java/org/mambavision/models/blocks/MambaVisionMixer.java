package org.mambavision.models.blocks;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.DepthwiseConv1d;
import org.mambavision.engine.ops.Linear;
import org.mambavision.engine.ops.SelectiveScan;
import org.mambavision.engine.ops.Shapes;
import org.mambavision.models.nn.LinearLayer;
import org.mambavision.models.nn.Module;

/**
 * The MambaVision mixer (official {@code MambaVisionMixer}, expand 1, d_conv 3): half the channels go
 * through a non-causal depthwise conv and a selective scan, the other half through a conv only;
 * both halves are concatenated (z is not a gate). The dt_proj bias is applied twice, as upstream.
 */
public final class MambaVisionMixer extends Module {
    final LinearLayer inProj, xProj, dtProj, outProj;
    final Tensor aLog, d, convX, convZ;
    final int dModel, dInner, dState, dtRank;

    public MambaVisionMixer(int dModel, int dState, int dConv, SplittableRandom rng) {
        this.dModel = dModel;
        this.dInner = dModel; // expand = 1
        this.dState = dState;
        this.dtRank = (dModel + 15) / 16;
        int half = dInner / 2;
        inProj = child("in_proj", new LinearLayer(dModel, dInner, false, rng));
        xProj = child("x_proj", new LinearLayer(half, dtRank + 2 * dState, false, rng));
        dtProj = child("dt_proj", new LinearLayer(dtRank, half, true, rng));
        outProj = child("out_proj", new LinearLayer(dInner, dModel, false, rng));
        Tensor a = Tensor.zeros(half, dState);
        for (int c = 0; c < half; c++) for (int s = 0; s < dState; s++) a.data[c * dState + s] = (float) Math.log(s + 1);
        aLog = param("A_log", a);
        d = param("D", Tensor.full(1f, half));
        float bound = (float) (1.0 / Math.sqrt(dConv));
        convX = param("conv1d_x.weight", Tensor.uniform(rng, -bound, bound, half, 1, dConv));
        convZ = param("conv1d_z.weight", Tensor.uniform(rng, -bound, bound, half, 1, dConv));
    }

    /**
     * h: (B, L, C) -> (B, L, C). The conv and scan work channels-first (B, C, L); the projections read and
     * write that layout directly (and only the weight rows each piece needs), so no transposes or splits.
     */
    public Tensor forward(Tensor h) {
        int half = dInner / 2;
        Tensor xIn = project(inProj, h, false, 0, half, null, true);           // (B, C/2, L)
        Tensor zIn = project(inProj, h, false, half, dInner, null, true);
        Tensor x = Activations.silu(DepthwiseConv1d.forward(xIn, convX, null, DepthwiseConv1d.Padding.SAME));
        Tensor z = Activations.silu(DepthwiseConv1d.forward(zIn, convZ, null, DepthwiseConv1d.Padding.SAME));
        Tensor dtIn = project(xProj, x, true, 0, dtRank, null, true);          // (B, R, L)
        Tensor bMat = project(xProj, x, true, dtRank, dtRank + dState, null, true);    // (B, N, L)
        Tensor cMat = project(xProj, x, true, dtRank + dState, dtRank + 2 * dState, null, true);
        Tensor dt = project(dtProj, dtIn, true, 0, half, dtProj.bias, true);   // (B, C/2, L)
        Tensor a = Arith.scale(Activations.exp(aLog), -1f);
        // the scan: per state element, dA * h + dB * u, and C * h (3 MACs), as fvcore-style counters do
        org.mambavision.models.nn.Profiler.addMacs(3L * x.numel() * dState);
        Tensor y = SelectiveScan.forward(x, dt, a, bMat, cMat, d, dtProj.bias, true);
        Tensor yz = Shapes.concat(1, y, z);                                  // (B, C, L)
        return project(outProj, yz, true, 0, dModel, null, false);           // (B, L, C)
    }

    /** Rows [r0, r1) of a linear layer between token-major and channels-first layouts (counted for the profiler). */
    private static Tensor project(LinearLayer lin, Tensor x, boolean xChannelsFirst, int r0, int r1, Tensor bias, boolean yChannelsFirst) {
        org.mambavision.models.nn.Profiler.addMacs((long) (x.numel() / lin.in) * lin.in * (r1 - r0));
        // the weight is the GEMM's B operand (worth a packed copy) where the output is token-major or the input is
        Gemm.PackedB packed = !yChannelsFirst || !xChannelsFirst ? lin.packedRows(r0, r1) : null;
        return Linear.forwardLayout(x, xChannelsFirst, lin.weight, r0, r1, bias, yChannelsFirst, packed);
    }
}
