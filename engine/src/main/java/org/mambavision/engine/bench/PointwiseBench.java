package org.mambavision.engine.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;
import org.mambavision.engine.ops.Attention;
import org.mambavision.engine.ops.LayerNorm;
import org.mambavision.engine.ops.Reduce;
import org.mambavision.engine.ops.Shapes;
import org.mambavision.engine.ops.Softmax;

/**
 * Throughput of the pointwise, normalisation and attention ops at MambaVision-T level-2 shapes
 * (tokens (16, 196, 320), 8 heads of 40, MLP hidden 1280).
 */
public final class PointwiseBench {
    private PointwiseBench() {}

    public static List<BenchRow> rows(Consumer<BenchRow> emit) {
        List<BenchRow> out = new ArrayList<>();
        Consumer<BenchRow> add = r -> {
            out.add(r);
            emit.accept(r);
        };
        SplittableRandom rng = new SplittableRandom(1);
        int b = 16, n = 196, c = 320, heads = 8;
        Tensor hidden = Tensor.randn(rng, 1f, b, n, 4 * c);
        Tensor tokens = Tensor.randn(rng, 1f, b, n, c);
        Tensor gamma = Tensor.randn(rng, 1f, c), beta = Tensor.randn(rng, 1f, c);
        Tensor qkv = Tensor.randn(rng, 1f, b, n, 3 * c);
        Tensor scores = Tensor.randn(rng, 1f, b, heads, n, n);
        String hs = hidden.shapeString(), ts = tokens.shapeString();
        try (var g = Tape.noGrad()) {
            add.accept(elementRate("gelu", hs, hidden.numel(), () -> Activations.gelu(hidden)));
            add.accept(elementRate("geluTanh", hs, hidden.numel(), () -> Activations.geluTanh(hidden)));
            add.accept(elementRate("silu", hs, hidden.numel(), () -> Activations.silu(hidden)));
            add.accept(elementRate("add", ts, tokens.numel(), () -> Arith.add(tokens, tokens)));
            add.accept(elementRate("mul (C)", ts, tokens.numel(), () -> Arith.mul(tokens, gamma)));
            add.accept(elementRate("layerNorm", ts, tokens.numel(), () -> LayerNorm.forward(tokens, gamma, beta, 1e-5f)));
            add.accept(elementRate("softmax", scores.shapeString(), scores.numel(), () -> Softmax.forward(scores)));
            add.accept(elementRate("transpose12", ts, tokens.numel(), () -> Shapes.transpose(tokens, 1, 2)));
            add.accept(elementRate("mean(1)", ts, tokens.numel(), () -> Reduce.mean(tokens, false, 1)));
            double flops = 4.0 * b * heads * n * n * (c / heads);
            double s = Timing.medianSeconds(5, 5, () -> Attention.qkvAttention(qkv, heads, 0.158f));
            add.accept(new BenchRow("attention fwd", qkv.shapeString() + " h" + heads, flops / s * 1e-9, "GFLOP/s"));
        }
        Tensor x = qkv.copy().requiresGrad(true);
        Tensor hg = hidden.copy().requiresGrad(true);
        float[] gOut = new float[b * n * c], gHidden = new float[hidden.numel()];
        double flopsBwd = 8.0 * b * heads * n * n * (c / heads); // 4 products in the backward (+1 recompute counted apart)
        double sb = Timing.medianSeconds(5, 5, () -> Tape.backward(Attention.qkvAttention(x, heads, 0.158f), gOut));
        add.accept(new BenchRow("attention f+b", qkv.shapeString() + " h" + heads, (flopsBwd + 4.0 * b * heads * n * n * (c / heads)) / sb * 1e-9, "GFLOP/s"));
        double sg = Timing.medianSeconds(5, 5, () -> Tape.backward(Activations.gelu(hg), gHidden));
        add.accept(new BenchRow("gelu f+b", hs, hidden.numel() / sg * 1e-9, "Gelem/s"));
        return out;
    }

    private static BenchRow elementRate(String name, String shape, long elements, Runnable body) {
        double s = Timing.medianSeconds(20, 7, body);
        return new BenchRow(name, shape, elements / s * 1e-9, "Gelem/s");
    }
}
