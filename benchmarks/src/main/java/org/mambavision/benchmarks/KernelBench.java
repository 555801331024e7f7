package org.mambavision.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
import org.mambavision.engine.ops.Conv2d;
import org.mambavision.engine.ops.SelectiveScan;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH microbenchmarks of the engine's hot kernels (time per call; convert with the FLOP counts in
 * BENCHMARKS.md). Run: {@code ./mvnw -q -pl benchmarks -am package -DskipTests && java --add-modules
 * jdk.incubator.vector -jar benchmarks/target/benchmarks.jar}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KernelBench {
    @Param({"1024x1024x1024", "6272x576x192", "6272x192x768"})
    String gemmShape;

    int m, n, k;
    float[] a, b, c;
    Tensor u, delta, aMat, bMat, cMat, d, dBias, convX, convW;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = gemmShape.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        SplittableRandom r = new SplittableRandom(1);
        a = Tensor.randn(r, 1, m * k).data;
        b = Tensor.randn(r, 1, k * n).data;
        c = new float[m * n];
        u = Tensor.randn(r, 1, 32, 384, 196);
        delta = Tensor.randn(r, 0.5f, 32, 384, 196);
        aMat = Tensor.uniform(r, -2f, -0.1f, 384, 16);
        bMat = Tensor.randn(r, 1, 32, 16, 196);
        cMat = Tensor.randn(r, 1, 32, 16, 196);
        d = Tensor.randn(r, 1, 384);
        dBias = Tensor.randn(r, 0.1f, 384);
        convX = Tensor.randn(r, 1, 32, 80, 56, 56);
        convW = Tensor.randn(r, 0.05f, 80, 80, 3, 3);
    }

    @Benchmark
    public float[] gemm() {
        Gemm.sgemm(false, false, m, n, k, a, 0, k, b, 0, n, 0f, c, 0, n);
        return c;
    }

    @Benchmark
    public Tensor scanForwardB32D384L196N16() {
        try (var g = Tape.noGrad()) {
            return SelectiveScan.forward(u, delta, aMat, bMat, cMat, d, dBias, true);
        }
    }

    @Benchmark
    public Tensor conv3x3B32C80S56() {
        try (var g = Tape.noGrad()) {
            return Conv2d.forward(convX, convW, null, 1, 1);
        }
    }
}
