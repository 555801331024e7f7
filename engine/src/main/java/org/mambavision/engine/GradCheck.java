package org.mambavision.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Checks an op's backward against central differences.
 *
 * <p>The scalar probed is {@code L = sum(out * w)} for a fixed random {@code w}, accumulated in
 * double precision; the difference quotient {@code (L(x+h) - L(x-h)) / 2h} is formed in double.
 * The op itself computes in float32, so {@code h} is moderate (1e-2 by default) and the tolerance is
 * a relative error on the whole gradient tensor: |num - analytic| / max(|num|, |analytic|).
 */
public final class GradCheck {
    private GradCheck() {}

    public record Result(String input, double relError, double maxAbsError, int probed) {}

    /** Runs the check and throws AssertionError naming the op and input when an error exceeds {@code tol}. */
    public static List<Result> check(String op, Supplier<Tensor> forward, double h, double tol, Tensor... inputs) {
        List<Result> results = run(forward, h, 4000, inputs);
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            if (!(r.relError <= tol)) {
                throw new AssertionError(op + ": gradient of input " + r.input + " has relative error " + r.relError
                        + " (max abs " + r.maxAbsError + ", " + r.probed + " elements probed), tolerance " + tol);
            }
        }
        return results;
    }

    public static List<Result> check(String op, Supplier<Tensor> forward, Tensor... inputs) {
        return check(op, forward, 1e-2, 1e-2, inputs);
    }

    /**
     * Returns the relative error per input. At most {@code maxProbes} elements per input are
     * perturbed (chosen at random, deterministically) to keep large inputs affordable.
     */
    public static List<Result> run(Supplier<Tensor> forward, double h, int maxProbes, Tensor... inputs) {
        for (Tensor t : inputs) {
            t.requiresGrad(true);
            t.grad = null;
        }
        Tape.clear();
        Tensor out = forward.get();
        SplittableRandom rng = new SplittableRandom(1234);
        float[] w = new float[out.numel()];
        for (int i = 0; i < w.length; i++) w[i] = (float) Tensor.gaussian(rng);
        Tape.backward(out, w);
        List<Result> results = new ArrayList<>();
        for (int k = 0; k < inputs.length; k++) {
            Tensor x = inputs[k];
            float[] analytic = x.grad == null ? new float[x.numel()] : x.grad.clone();
            int n = x.numel();
            int[] idx = probeIndices(n, maxProbes, rng);
            double num2 = 0, ana2 = 0, diff2 = 0, maxAbs = 0;
            for (int i : idx) {
                float orig = x.data[i];
                x.data[i] = (float) (orig + h);
                double plus = dot(forwardNoGrad(forward), w);
                x.data[i] = (float) (orig - h);
                double minus = dot(forwardNoGrad(forward), w);
                x.data[i] = orig;
                double hp = (double) (float) (orig + h) - orig, hm = orig - (double) (float) (orig - h);
                double num = (plus - minus) / (hp + hm);
                double a = analytic[i];
                num2 += num * num;
                ana2 += a * a;
                diff2 += (num - a) * (num - a);
                maxAbs = Math.max(maxAbs, Math.abs(num - a));
            }
            double denom = Math.max(Math.sqrt(Math.max(num2, ana2)), 1e-6);
            String label = x.name() != null ? x.name() : ("#" + k);
            results.add(new Result(label, Math.sqrt(diff2) / denom, maxAbs, idx.length));
        }
        return results;
    }

    private static Tensor forwardNoGrad(Supplier<Tensor> forward) {
        try (var g = Tape.noGrad()) {
            return forward.get();
        }
    }

    private static double dot(Tensor out, float[] w) {
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) out.data[i] * w[i];
        return s;
    }

    private static int[] probeIndices(int n, int max, SplittableRandom rng) {
        if (n <= max) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int[] idx = new int[max];
        for (int i = 0; i < max; i++) idx[i] = rng.nextInt(n);
        return idx;
    }
}
