package org.mambavision.engine.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Conv2d;

/**
 * Throwaway throughput runner for the convolutions of MambaVision-T's conv stages at batch 32 (not a
 * unit test): forward or forward+backward GFLOP/s, median of runs. Args: seconds per row (default 4), [train|fwd], [batch (default 32)];
 * -Dshapes=... for other shapes.
 */
public final class ConvPerfMain {
    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 4;
        boolean train = args.length > 1 && args[1].equals("train");
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        // MambaVision-T at batch 32: stem (2), stage-1 conv, downsample 1, stage-2 conv, downsample 2 and 3
        int[][] shapes = {{32, 3, 224, 224, 32, 2}, {32, 32, 112, 112, 80, 2}, {32, 80, 56, 56, 80, 1}, {32, 80, 56, 56, 160, 2},
            {32, 160, 28, 28, 160, 1}, {32, 160, 28, 28, 320, 2}, {32, 320, 14, 14, 640, 2}};
        String only = System.getProperty("shapes"); // e.g. -Dshapes=64,32,8,8,32,1;64,64,4,4,64,1 (n, cin, h, w, cout, stride)
        if (only != null) {
            shapes = Arrays.stream(only.split(";")).map(t -> Arrays.stream(t.split(",")).mapToInt(Integer::parseInt).toArray())
                    .toArray(int[][]::new);
        }
        SplittableRandom rng = new SplittableRandom(1);
        for (int[] s : shapes) {
            if (only == null) s[0] = batch;
            Tensor x = Tensor.randn(rng, 1f, s[0], s[1], s[2], s[3]).requiresGrad(true);
            Tensor w = Tensor.randn(rng, 0.05f, s[4], s[1], 3, 3).requiresGrad(true);
            int ho = (s[2] - 1) / s[5] + 1;
            double flops = 2.0 * s[0] * s[4] * ho * ho * s[1] * 9;
            {
                double[] t = new double[200];
                int runs = 0;
                long end = System.nanoTime() + (long) (seconds * 1e9);
                while (System.nanoTime() < end && runs < t.length) {
                    long t0 = System.nanoTime();
                    try (BufferPool.Scope scope = BufferPool.open()) {
                        if (train) {
                            x.grad = null; w.grad = null;
                            Tensor y = Conv2d.forward(x, w, null, s[5], 1);
                            Tape.backward(y, y.data);
                        } else {
                            try (var ng = Tape.noGrad()) { Conv2d.forward(x, w, null, s[5], 1); }
                        }
                    }
                    t[runs++] = (System.nanoTime() - t0) / 1e9;
                }
                double[] tail = Arrays.copyOfRange(t, runs / 2, runs);
                Arrays.sort(tail);
                double med = tail[tail.length / 2];
                System.out.printf(Locale.ROOT, "%-28s %-6s %8.2f ms %7.1f GFLOP/s (%d runs)%n", Arrays.toString(s), train ? "train" : "fwd",
                        med * 1e3, flops * (train ? 3 : 1) / med / 1e9, runs);
            }
        }
    }
}
