package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one clear line naming the problem and a non-zero exit, never a stack trace. */
class CliErrorsTest {
    record Result(int code, String err) {}

    static Result run(String... args) {
        StringWriter sw = new StringWriter();
        int code = Main.run(new PrintWriter(sw, true), args);
        return new Result(code, sw.toString());
    }

    static void assertOneLine(Result r, String... fragments) {
        assertNotEquals(0, r.code(), r.err());
        String e = r.err().strip();
        assertFalse(e.contains("\tat "), "stack trace in: " + e);
        assertEquals(1, e.lines().count(), "expected one line: " + e);
        for (String f : fragments) assertTrue(e.contains(f), "'" + f + "' not in: " + e);
    }

    @Test
    void unknownModelListsValidNames() {
        assertOneLine(run("summary", "--model", "mambavision_zz"), "unknown model 'mambavision_zz'", "mambavision_t", "flat_tiny");
    }

    @Test
    void missingWeightsFileIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("nope.pth.tar");
        assertOneLine(run("predict", "--model", "mambavision_t", "--weights", missing.toString(), "x.png"), missing.toString());
    }

    @Test
    void garbageWeightsFileIsNamed(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertOneLine(run("infer", "--model", "flat_tiny", "--weights", bad.toString(), "--input", bad.toString(),
                "--output", dir.resolve("o.safetensors").toString()), bad.toString());
    }

    @Test
    void badImageSize() {
        assertOneLine(run("summary", "--model", "flat_tiny", "--img-size", "12xq"), "--img-size");
    }

    @Test
    void summaryJsonHasParamsAndMacs() {
        java.io.ByteArrayOutputStream bout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(bout, true));
        int code;
        try {
            code = Main.run("summary", "--model", "flat_tiny", "--img-size", "64", "--json");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code);
        String out = bout.toString();
        assertTrue(out.contains("\"params\":") && out.contains("\"macs\":"), out);
    }

    @Test
    void weightsOfAnotherVariantSayWhichKeysDiffer() {
        Path g = org.mambavision.engine.Golden.dirOrNull();
        org.junit.jupiter.api.Assumptions.assumeTrue(g != null, "no ../shared/golden");
        Path w = g.resolve("mini/weights.safetensors");
        Result r = run("infer", "--model", "mambavision_t", "--weights", w.toString(), "--input", w.toString(), "--output", "/nonexistent/o.safetensors");
        assertOneLine(r, w.toString(), "mambavision_t", "missing key", "shape mismatch", "levels.0.blocks.0.conv1.weight");
    }

    @Test
    void nonImageIsNamed(@TempDir Path dir) throws Exception {
        Path g = org.mambavision.engine.Golden.dirOrNull();
        org.junit.jupiter.api.Assumptions.assumeTrue(g != null, "no ../shared/golden");
        Path txt = dir.resolve("notes.png");
        Files.writeString(txt, "this is not an image");
        // a tiny checkpoint of ours would do too; the golden mini weights need a matching model, so build one
        Path ckpt = dir.resolve("m.safetensors");
        org.mambavision.models.VisionModel m = org.mambavision.models.ModelRegistry.create("mambavision_mini",
                org.mambavision.models.ModelOptions.defaults().withClasses(1000));
        org.mambavision.models.Weights.save(m, ckpt, java.util.Map.of());
        assertOneLine(run("predict", "--model", "mambavision_mini", "--weights", ckpt.toString(), txt.toString()), txt.toString(), "not an image");
    }

    /** A command that fails the way a real workload can: the heap or the stack runs out, here or in a worker thread. */
    @picocli.CommandLine.Command(name = "exhaust")
    static final class Exhaust implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Parameters String what;
        @picocli.CommandLine.Option(names = "--in-worker") boolean inWorker;

        @Override
        public Integer call() throws Exception {
            if (!inWorker) return exhaust();
            // a worker's Error reaches the command wrapped, as from the data loader's or the kernels' threads
            return java.util.concurrent.CompletableFuture.supplyAsync(this::exhaust).get();
        }

        private int exhaust() {
            if (what.equals("heap")) {
                long[] tooBig = new long[Integer.MAX_VALUE - 8]; // 16 GiB, more than a test JVM's heap
                return tooBig.length;
            }
            return depth(0);
        }

        private static int depth(int n) {
            return depth(n + 1) + 1;
        }
    }

    static Result runWithExhaust(String... args) {
        StringWriter sw = new StringWriter();
        picocli.CommandLine cl = new picocli.CommandLine(new Main()).addSubcommand(new Exhaust());
        int code = Main.run(cl, new PrintWriter(sw, true), args);
        return new Result(code, sw.toString());
    }

    @Test
    void outOfMemoryIsOneLine() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < 15L << 30, "heap too large to exhaust");
        assertOneLine(runWithExhaust("exhaust", "heap"), "error: out of memory", "MV_HEAP", "batch_size");
        assertOneLine(runWithExhaust("exhaust", "heap", "--in-worker"), "error: out of memory", "MV_HEAP");
    }

    @Test
    void stackOverflowIsOneLine() {
        assertOneLine(runWithExhaust("exhaust", "stack"), "error: stack overflow");
        assertOneLine(runWithExhaust("exhaust", "stack", "--in-worker"), "error: stack overflow");
    }

    @Test
    void configNestedTenThousandDeepIsOneLine(@TempDir Path dir) throws Exception {
        String deep = "[".repeat(10_000) + "1" + "]".repeat(10_000);
        Path f = Files.writeString(dir.resolve("deep.yaml"), "betas: " + deep + "\n");
        assertOneLine(run("train", "--config", f.toString()), f.toString(), "nested more than");
        assertOneLine(run("train", "--set", "betas=" + deep), "--set betas", "nested more than");
    }
}
