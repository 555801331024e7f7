package org.mambavision.cli;

import java.util.concurrent.Callable;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.bench.BenchRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ./mambavision bench kernels|model}: speed figures for BENCHMARKS.md (medians of several runs). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure kernel or model speed (medians of several runs).")
public final class BenchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "WHAT", description = "kernels | model | serve")
    String what;

    @Option(names = "--json", description = "One JSON object per line (name, shape, value, unit).")
    boolean json;

    @Option(names = "--model", defaultValue = "mambavision_t", description = "Model for 'bench model' (default mambavision_t).")
    String model;

    @Option(names = "--batch", defaultValue = "32", description = "Batch size for 'bench model' (default 32).")
    int batch;

    @Option(names = "--img-size", description = "Input size for 'bench model' (default: the model's).")
    String imgSize;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs per row; the median is reported (default 5).")
    int runs;

    @Option(names = "--concurrency", defaultValue = "1,8,32", split = ",", description = "Client counts for 'bench serve' (default 1,8,32).")
    java.util.List<Integer> concurrency;

    @Option(names = "--seconds", defaultValue = "20", description = "Timed seconds per concurrency level for 'bench serve' (default 20).")
    int seconds;

    @Option(names = "--train", description = "Also measure training steps (forward, backward, AdamW).")
    boolean train;

    @Option(names = "--layers", description = "'bench model': also our engine's time per layer at --batch (stem, each block, "
            + "each downsampling, norm, head; median of max(--runs, 20) passes), one 'layer' row each.")
    boolean layers;

    @Option(names = "--runtime", defaultValue = "engine", description = "'bench model' in: engine (ours), or onnxruntime: "
            + "also export the model and time it in ONNX Runtime's CPU provider with as many threads as ours, row by row beside ours "
            + "(each runtime in blocks of its own, 3 alternating rounds; medians over the rounds).")
    String runtime;

    @Override
    public Integer call() throws Exception {
        if (!runtime.equals("engine") && !runtime.equals("onnxruntime")) {
            throw new UserError("--runtime: unknown '" + runtime + "' (valid: engine, onnxruntime)");
        }
        if (!json) System.out.println("# " + machine());
        switch (what) {
            case "kernels" -> KernelBenchmarks.all(this::emit);
            case "model" -> ModelBenchmarks.run(model, batch, imgSize, Math.max(1, runs), train, layers, runtime.equals("onnxruntime"), this::emit);
            case "serve" -> { // bench model's rows before and after: the targets compare the server with them, same JVM and machine
                ModelBenchmarks.run(model, batch, null, Math.max(1, runs), false, false, false, this::emit);
                ServeBenchmarks.run(model, batch, concurrency, seconds, this::emit);
                ModelBenchmarks.run(model, batch, null, Math.max(1, runs), false, false, false, this::emit);
            }
            default -> throw new UserError("bench: unknown target '" + what + "' (valid: kernels, model, serve)");
        }
        return 0;
    }

    private void emit(BenchRow r) {
        System.out.println(json ? r.toJson() : r.toText());
        System.out.flush();
    }

    static String machine() {
        return Parallel.threads() + " threads, " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version")
                + ", " + System.getProperty("os.arch");
    }
}
