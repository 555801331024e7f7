package org.mambavision.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.Conv2d;
import org.mambavision.engine.ops.SelectiveScan;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: selective scan forward (b32 d384 l196 n16) and a 3x3 conv (32x80x56x56), time per call. Run: {@code ./mvnw -q -pl benchmarks -am package -DskipTests && java --add-modules
 * jdk.incubator.vector -jar benchmarks/target/benchmarks.jar}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class OpsBench {
    Tensor u, delta, aMat, bMat, cMat, d, dBias, convX, convW;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
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
