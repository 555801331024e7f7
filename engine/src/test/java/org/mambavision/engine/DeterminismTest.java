package org.mambavision.engine;

import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.ops.*;

class DeterminismTest {
    static void same(String name, Supplier<Tensor> f) {
        boolean ok = true;
        float[] a = f.get().data.clone();
        for (int i = 0; i < 20; i++) ok &= java.util.Arrays.equals(a, f.get().data);
        System.out.println("DET " + name + "=" + ok);
    }

    @Test
    void det() {
        SplittableRandom r = new SplittableRandom(3);
        try (var g = Tape.noGrad()) {
            Tensor x = Tensor.randn(r, 1, 16, 3, 32, 32), w = Tensor.randn(r, 0.1f, 192, 3, 8, 8), b = Tensor.randn(r, 0.1f, 192);
            same("conv_patch", () -> Conv2d.forward(x, w, b, 8, 0));
            Tensor t = Tensor.randn(r, 1, 16, 16, 192), lw = Tensor.randn(r, 1, 192), lb = Tensor.randn(r, 1, 192);
            same("layernorm", () -> LayerNorm.forward(t, lw, lb, 1e-5f));
            same("transpose", () -> Shapes.transpose(t, 1, 2));
            same("mean", () -> Reduce.mean(t, false, 1));
            Tensor qkv = Tensor.randn(r, 1, 16, 16, 576);
            same("attn", () -> Attention.qkvAttention(qkv, 6, 0.2f));
            Tensor u = Tensor.randn(r, 1, 16, 96, 16), dl = Tensor.randn(r, 1, 16, 96, 16), A = Tensor.uniform(r, -2, -0.1f, 96, 16),
                    B = Tensor.randn(r, 1, 16, 16, 16), C = Tensor.randn(r, 1, 16, 16, 16), D = Tensor.randn(r, 1, 96), db = Tensor.randn(r, 1, 96);
            same("scan", () -> SelectiveScan.forward(u, dl, A, B, C, D, db, true));
            same("silu", () -> Activations.silu(t));
            same("gelu", () -> Activations.gelu(t));
            same("add", () -> Arith.add(t, lw));
            same("split", () -> Shapes.split(t, 2, 96, 96)[1]);
            same("linear", () -> Linear.forward(t, Tensor.randn(new SplittableRandom(5), 1, 64, 192), null));
        }
    }
}
