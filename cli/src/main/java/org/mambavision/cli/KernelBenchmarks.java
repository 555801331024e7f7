package org.mambavision.cli;

import java.util.function.Consumer;
import org.mambavision.engine.bench.BenchRow;
import org.mambavision.engine.bench.ConvBench;
import org.mambavision.engine.bench.GemmBench;
import org.mambavision.engine.bench.ScanBench;

/** The rows of {@code bench kernels}: fma_peak, gemm, conv2d, scan_forward, scan_backward, printed as measured. */
final class KernelBenchmarks {
    private KernelBenchmarks() {}

    static void all(Consumer<BenchRow> emit) {
        GemmBench.rows(emit);
        ConvBench.rows(emit);
        ScanBench.rows(emit);
    }
}
