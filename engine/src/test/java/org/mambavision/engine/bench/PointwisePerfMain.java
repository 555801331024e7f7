package org.mambavision.engine.bench;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Attention;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.engine.ops.LayerNorm;
import org.mambavision.engine.ops.Softmax;

/**
 * Throwaway throughput runner for the pointwise ops (not a unit test): forward (no grad) and
 * forward+backward, median of runs. Args: names to run (gelu geluTanh silu ln softmax attn ce), none = all.
 */
public final class PointwisePerfMain {
    public static void main(String[] args) {
        java.util.Set<String> only = new java.util.HashSet<>(java.util.List.of(args));
        SplittableRandom rng = new SplittableRandom(1);
        int[][] actShapes = {{32, 196, 1280}, {32, 80, 56, 56}};
        for (String fn : new String[] {"gelu", "geluTanh", "silu"}) {
            if (!only.isEmpty() && !only.contains(fn)) continue;
            for (int[] sh : actShapes) {
                Tensor x = Tensor.randn(rng, 1f, sh);
                java.util.function.Function<Tensor, Tensor> f = switch (fn) {
                    case "gelu" -> Activations::gelu;
                    case "geluTanh" -> Activations::geluTanh;
                    default -> Activations::silu;
                };
                fwdBwd(fn, x, () -> f.apply(x));
            }
        }
        if (only.isEmpty() || only.contains("ln")) {
            Tensor x = Tensor.randn(rng, 1f, 32 * 196, 320);
            Tensor w = Tensor.randn(rng, 1f, 320), b = Tensor.randn(rng, 1f, 320);
            fwdBwd("layerNorm", x, () -> LayerNorm.forward(x, w, b, 1e-5f), w, b);
        }
        if (only.isEmpty() || only.contains("softmax")) {
            Tensor x = Tensor.randn(rng, 1f, 32 * 8 * 49, 49);
            fwdBwd("softmax", x, () -> Softmax.forward(x));
        }
        if (only.isEmpty() || only.contains("attn")) {
            for (int[] sh : new int[][] {{128, 8, 49, 40}, {32, 16, 49, 40}, {32, 6, 196, 32}}) {
                Tensor q = Tensor.randn(rng, 1f, sh), k = Tensor.randn(rng, 1f, sh), v = Tensor.randn(rng, 1f, sh);
                fwdBwd("attention", q, () -> Attention.forward(q, k, v, 0.158f), k, v);
            }
        }
        if (only.isEmpty() || only.contains("ce")) {
            Tensor x = Tensor.randn(rng, 1f, 256, 1000);
            int[] labels = new int[256];
            for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(1000);
            fwdBwd("crossEntropy", x, () -> CrossEntropy.forward(x, labels, 0.1f));
        }
    }

    /** Runs body for at least 1.5 s (and 5 times) so that C2 has compiled the kernels. */
    private static void warm(Runnable body) {
        long t0 = System.nanoTime();
        for (int i = 0; i < 5 || System.nanoTime() - t0 < 1_500_000_000L; i++) body.run();
    }

    private static void fwdBwd(String name, Tensor x, Supplier<Tensor> op, Tensor... others) {
        long n = x.numel();
        double fwd;
        try (var g = Tape.noGrad()) {
            warm(op::get);
            fwd = Timing.medianSeconds(0, 9, op::get);
        }
        x.requiresGrad(true);
        for (Tensor o : others) o.requiresGrad(true);
        float[][] gradOut = new float[1][];
        Runnable fbBody = () -> {
            Tensor y = op.get();
            if (gradOut[0] == null || gradOut[0].length != y.numel()) gradOut[0] = new float[y.numel()];
            Tape.backward(y, gradOut[0]);
            x.grad = null;
            for (Tensor o : others) o.grad = null;
        };
        warm(fbBody);
        double fb = Timing.medianSeconds(0, 7, fbBody);
        x.requiresGrad(false);
        for (Tensor o : others) o.requiresGrad(false);
        System.out.printf(Locale.ROOT, "%-12s %-18s fwd %7.3f ms %6.2f Gelem/s | f+b %7.3f ms %6.2f Gelem/s%n",
                name, x.shapeString(), fwd * 1e3, n / fwd * 1e-9, fb * 1e3, n / fb * 1e-9);
    }
}
