package org.mambavision.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Gemm;
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
 * JMH: the packed GEMM at model shapes (time per call; GFLOP/s = 2MNK / time). Run: {@code ./mvnw -q -pl benchmarks -am package -DskipTests && java --add-modules
 * jdk.incubator.vector -jar benchmarks/target/benchmarks.jar}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBench {
    @Param({"1024x1024x1024", "6272x576x192", "6272x192x768"})
    String gemmShape;

    int m, n, k;
    float[] a, b, c;

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
    }

    @Benchmark
    public float[] gemm() {
        Gemm.sgemm(false, false, m, n, k, a, 0, k, b, 0, n, 0f, c, 0, n);
        return c;
    }
}
