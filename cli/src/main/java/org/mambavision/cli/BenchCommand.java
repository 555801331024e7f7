package org.mambavision.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.bench.BenchRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./mambavision bench kernels|model}: speed figures for BENCHMARKS.md (medians of several runs). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure kernel and model speed (medians).")
public final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "What to measure: kernels")
    String what;

    @Option(names = "--json", description = "One JSON object per line.")
    boolean json;

    @Override
    public Integer call() {
        List<BenchRow> rows = new ArrayList<>();
        switch (what) {
            case "kernels" -> rows.addAll(KernelBenchmarks.all(this::emit));
            default -> throw new UserError("bench: unknown target '" + what + "' (valid: kernels)");
        }
        return 0;
    }

    private void emit(BenchRow r) {
        System.out.println(json ? r.toJson() : r.toText());
        System.out.flush();
    }

    static String machine() {
        return Parallel.threads() + " threads, " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version");
    }
}
