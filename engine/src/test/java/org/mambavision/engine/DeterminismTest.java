package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.ops.*;

/**
 * Repeated calls with the same inputs must give bit-identical outputs and gradients (exact training
 * resume depends on it). The first calls of an op run in the interpreter, later ones C1- and then
 * C2-compiled (with on-stack replacement in between), so repetition is what exposes JIT-tier dependent
 * math (e.g. Vector API {@code reduceLanes(ADD)} or {@code lanewise(EXP)}).
 *
 * <p>Other test classes in the same JVM may already have compiled the kernels, so the checks also run
 * in a freshly started JVM, where the first repetitions are guaranteed to be interpreted.
 */
class DeterminismTest {
    private static final int REPEATS = 24;

    /** One op: builds its output from the (fixed) inputs; forward-only or forward + backward. */
    private record Case(String name, Supplier<Tensor> op, Tensor[] inputs, Supplier<Tensor[]> extraState) {}

    private static List<Case> cases() {
        SplittableRandom r = new SplittableRandom(3);
        List<Case> cs = new ArrayList<>();
        // LayerNorm over an odd channel count (vector body + scalar tail)
        Tensor t = Tensor.randn(r, 1, 8, 49, 197), lw = Tensor.randn(r, 1, 197), lb = Tensor.randn(r, 1, 197);
        cs.add(grad("layernorm", () -> LayerNorm.forward(t, lw, lb, 1e-5f), t, lw, lb));
        Tensor u = Tensor.randn(r, 1, 2, 40, 64), dl = Tensor.randn(r, 1, 2, 40, 64), A = Tensor.uniform(r, -2, -0.1f, 40, 16),
                B = Tensor.randn(r, 1, 2, 16, 64), C = Tensor.randn(r, 1, 2, 16, 64), D = Tensor.randn(r, 1, 40), db = Tensor.randn(r, 1, 40);
        cs.add(grad("selectiveScan", () -> SelectiveScan.forward(u, dl, A, B, C, D, db, true), u, dl, A, B, C, D, db));
        Tensor dwx = Tensor.randn(r, 1, 2, 40, 67), dww = Tensor.randn(r, 1, 40, 1, 3), dwb = Tensor.randn(r, 1, 40);
        cs.add(grad("depthwiseConv1d", () -> DepthwiseConv1d.forward(dwx, dww, dwb, DepthwiseConv1d.Padding.SAME), dwx, dww, dwb));
        // activations: big enough for the threaded path, odd size for the masked tail, spread to reach all branches
        Tensor a = Tensor.randn(r, 4f, 3, 40_001);
        a.data[0] = 25f;
        a.data[1] = -95f;
        cs.add(grad("gelu", () -> Activations.gelu(a), a));
        cs.add(grad("geluTanh", () -> Activations.geluTanh(a), a));
        cs.add(grad("silu", () -> Activations.silu(a), a));
        cs.add(grad("relu", () -> Activations.relu(a), a));
        cs.add(grad("softplus", () -> Activations.softplus(a), a));
        Tensor ae = Tensor.randn(r, 1f, 3, 40_001);
        cs.add(grad("exp", () -> Activations.exp(ae), ae));
        Tensor qkv = Tensor.randn(r, 1, 4, 49, 3 * 96);
        cs.add(grad("attention", () -> Attention.qkvAttention(qkv, 4, 0.2f), qkv));
        Tensor s = Tensor.randn(r, 3f, 6, 49, 53);
        cs.add(grad("softmax", () -> Softmax.forward(s), s));
        Tensor logits = Tensor.randn(r, 3f, 64, 1001);
        int[] labels = new int[64];
        for (int i = 0; i < labels.length; i++) labels[i] = r.nextInt(1001);
        cs.add(grad("crossEntropy", () -> CrossEntropy.forward(logits, labels, 0.1f), logits));
        Tensor soft = Tensor.uniform(r, 0f, 1f, 64, 1001);
        cs.add(grad("crossEntropySoft", () -> CrossEntropy.forwardSoft(logits, soft), logits));
        // BatchNorm2d in training mode: batch statistics; running stats start from the same values every call
        Tensor bx = Tensor.randn(r, 2f, 8, 24, 14, 15), bw = Tensor.randn(r, 1, 24), bb = Tensor.randn(r, 1, 24);
        Tensor rm = Tensor.zeros(24), rv = Tensor.zeros(24);
        Arrays.fill(rv.data, 1f);
        float[] rm0 = rm.data.clone(), rv0 = rv.data.clone();
        cs.add(new Case("batchNorm2d(train)", () -> {
            System.arraycopy(rm0, 0, rm.data, 0, rm0.length);
            System.arraycopy(rv0, 0, rv.data, 0, rv0.length);
            return BatchNorm2d.forward(bx, bw, bb, rm, rv, true, 0.1f, 1e-5f);
        }, new Tensor[] {bx, bw, bb}, () -> new Tensor[] {rm, rv}));
        cs.add(grad("mean", () -> Reduce.mean(t, false, 1), t));
        cs.add(grad("meanAll", () -> Reduce.meanAll(t), t));
        // GEMM-based ops (Linear, Conv2d); small enough for the single-threaded GEMM path
        Tensor lx = Tensor.randn(r, 1, 8, 49, 97), lwt = Tensor.randn(r, 1, 33, 97), lbt = Tensor.randn(r, 1, 33);
        cs.add(grad("linear", () -> Linear.forward(lx, lwt, lbt), lx, lwt, lbt));
        Tensor cx = Tensor.randn(r, 1, 2, 3, 32, 32), cw = Tensor.randn(r, 0.1f, 48, 3, 4, 4), cb = Tensor.randn(r, 0.1f, 48);
        cs.add(grad("conv2d", () -> Conv2d.forward(cx, cw, cb, 4, 0), cx, cw, cb));
        return cs;
    }

    private static Case grad(String name, Supplier<Tensor> op, Tensor... inputs) {
        return new Case(name, op, inputs, () -> new Tensor[0]);
    }

    /** Output, then every input's gradient, then extra state, of one forward + backward. */
    private static List<float[]> run(Case c) {
        for (Tensor x : c.inputs) {
            x.requiresGrad(true);
            x.grad = null;
        }
        Tape.clear();
        Tensor y = c.op.get();
        float[] gy = new float[y.numel()];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < gy.length; i++) gy[i] = (float) r.nextGaussian();
        Tape.backward(y, gy);
        List<float[]> got = new ArrayList<>();
        got.add(y.data.clone());
        for (Tensor x : c.inputs) got.add(x.grad == null ? new float[0] : x.grad.clone());
        for (Tensor x : c.extraState.get()) got.add(x.data.clone());
        for (Tensor x : c.inputs) {
            x.grad = null;
            x.requiresGrad(false);
        }
        // and the same op without recording (the inference path)
        try (var g = Tape.noGrad()) {
            got.add(c.op.get().data.clone());
        }
        return got;
    }

    /** Names of the cases (with the differing part) whose repeats were not bit-identical. */
    static List<String> failures() {
        List<String> bad = new ArrayList<>();
        for (Case c : cases()) {
            List<float[]> first = run(c);
            if (first.get(0).length == 0) bad.add(c.name + ": empty output");
            boolean gradsPresent = first.subList(1, 1 + c.inputs.length).stream().allMatch(g -> g.length > 0);
            if (!gradsPresent) bad.add(c.name + ": missing gradient");
            outer:
            for (int rep = 1; rep < REPEATS; rep++) {
                List<float[]> again = run(c);
                for (int k = 0; k < first.size(); k++) {
                    if (!Arrays.equals(first.get(k), again.get(k))) {
                        bad.add(c.name + " repeat " + rep + ": " + part(c, k) + " differs");
                        break outer;
                    }
                }
            }
        }
        return bad;
    }

    private static String part(Case c, int k) {
        if (k == 0) return "output";
        if (k <= c.inputs.length) return "gradient of input " + (k - 1);
        if (k < c.inputs.length + 1 + c.extraState.get().length) return "state " + (k - 1 - c.inputs.length);
        return "no-grad output";
    }

    @Test
    void repeatedCallsAreBitIdentical() {
        List<String> bad = failures();
        assertTrue(bad.isEmpty(), "not deterministic: " + bad);
    }

    @Test
    void repeatedCallsAreBitIdenticalInAFreshJvm() throws IOException, InterruptedException {
        String java = System.getProperty("java.home") + "/bin/java";
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx2g",
                "-cp", System.getProperty("java.class.path"), DeterminismTest.class.getName());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM: " + text);
        assertTrue(text.contains("DETERMINISTIC"), "child JVM: " + text);
    }

    /** Entry point of the fresh JVM: prints DETERMINISTIC, or the failures and exits with 1. */
    public static void main(String[] args) {
        List<String> bad = failures();
        if (bad.isEmpty()) {
            System.out.println("DETERMINISTIC");
        } else {
            System.out.println("NOT DETERMINISTIC: " + bad);
            System.exit(1);
        }
    }
}
