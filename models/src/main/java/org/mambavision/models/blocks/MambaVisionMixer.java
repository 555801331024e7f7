package org.mambavision.models.blocks;

import java.util.SplittableRandom;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.DepthwiseConv1d;
import org.mambavision.engine.ops.SelectiveScan;
import org.mambavision.engine.ops.Shapes;
import org.mambavision.models.nn.Linear;
import org.mambavision.models.nn.Module;

/**
 * The MambaVision mixer (official {@code MambaVisionMixer}, expand 1, d_conv 3): half the channels go
 * through a non-causal depthwise conv and a selective scan, the other half through a conv only;
 * both halves are concatenated (z is not a gate). The dt_proj bias is applied twice, as upstream.
 */
public final class MambaVisionMixer extends Module {
    final Linear inProj, xProj, dtProj, outProj;
    final Tensor aLog, d, convX, convZ;
    final int dModel, dInner, dState, dtRank;

    public MambaVisionMixer(int dModel, int dState, int dConv, SplittableRandom rng) {
        this.dModel = dModel;
        this.dInner = dModel; // expand = 1
        this.dState = dState;
        this.dtRank = (dModel + 15) / 16;
        int half = dInner / 2;
        inProj = child("in_proj", new Linear(dModel, dInner, false, rng));
        xProj = child("x_proj", new Linear(half, dtRank + 2 * dState, false, rng));
        dtProj = child("dt_proj", new Linear(dtRank, half, true, rng));
        outProj = child("out_proj", new Linear(dInner, dModel, false, rng));
        Tensor a = Tensor.zeros(half, dState);
        for (int c = 0; c < half; c++) for (int s = 0; s < dState; s++) a.data[c * dState + s] = (float) Math.log(s + 1);
        aLog = param("A_log", a);
        d = param("D", Tensor.full(1f, half));
        float bound = (float) (1.0 / Math.sqrt(dConv));
        convX = param("conv1d_x.weight", Tensor.uniform(rng, -bound, bound, half, 1, dConv));
        convZ = param("conv1d_z.weight", Tensor.uniform(rng, -bound, bound, half, 1, dConv));
    }

    /** h: (B, L, C) -> (B, L, C). */
    public Tensor forward(Tensor h) {
        int half = dInner / 2;
        Tensor xz = Shapes.transpose(inProj.forward(h), 1, 2);              // (B, C, L)
        Tensor[] xzParts = Shapes.split(xz, 1, half, half);
        Tensor x = Activations.silu(DepthwiseConv1d.forward(xzParts[0], convX, null, DepthwiseConv1d.Padding.SAME));
        Tensor z = Activations.silu(DepthwiseConv1d.forward(xzParts[1], convZ, null, DepthwiseConv1d.Padding.SAME));
        Tensor xDbl = xProj.forward(Shapes.transpose(x, 1, 2));             // (B, L, R + 2N)
        Tensor[] parts = Shapes.split(xDbl, 2, dtRank, dState, dState);
        Tensor dt = Shapes.transpose(dtProj.forward(parts[0]), 1, 2);       // (B, C/2, L)
        Tensor bMat = Shapes.transpose(parts[1], 1, 2);                     // (B, N, L)
        Tensor cMat = Shapes.transpose(parts[2], 1, 2);
        Tensor a = Arith.scale(Activations.exp(aLog), -1f);
        // the scan: per state element, dA * h + dB * u, and C * h (3 MACs), as fvcore-style counters do
        org.mambavision.models.nn.Profiler.addMacs(3L * x.numel() * dState);
        Tensor y = SelectiveScan.forward(x, dt, a, bMat, cMat, d, dtProj.bias, true);
        Tensor yz = Shapes.concat(1, y, z);                                  // (B, C, L)
        return outProj.forward(Shapes.transpose(yz, 1, 2));
    }
}
