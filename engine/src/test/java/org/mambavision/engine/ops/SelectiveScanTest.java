package org.mambavision.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Golden;
import org.mambavision.engine.GradCheck;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class SelectiveScanTest {

    // ---- golden (official mamba_ssm semantics, F64 reference) ------------------------------

    @Test
    void matchesGoldenOutputAndAllGradients() throws IOException {
        Path g = Golden.dirOrNull();
        Assumptions.assumeTrue(g != null, "no ../shared/golden");
        Map<String, Loaded> f = readSafetensors(g.resolve("selective_scan/scan.safetensors"));
        Tensor u = f.get("u").tensor(), delta = f.get("delta").tensor(), A = f.get("A").tensor(), B = f.get("B").tensor(),
                C = f.get("C").tensor(), D = f.get("D").tensor(), bias = f.get("delta_bias").tensor();
        Tensor[] in = {u, delta, A, B, C, D, bias};
        String[] gradNames = {"grad_u", "grad_delta", "grad_A", "grad_B", "grad_C", "grad_D", "grad_delta_bias"};
        for (Tensor t : in) t.requiresGrad(true);
        Tape.clear();
        Tensor y = SelectiveScan.forward(u, delta, A, B, C, D, bias, true);
        assertArrayEquals(f.get("y").shape, y.shape());
        assertRelError("y", f.get("y").values, y.data, 1e-5);
        Tape.backward(y, f.get("dy").tensor().data);
        for (int i = 0; i < in.length; i++) {
            Loaded ref = f.get(gradNames[i]);
            assertArrayEquals(ref.shape, in[i].shape(), gradNames[i]);
            assertRelError(gradNames[i], ref.values, in[i].grad, 1e-5);
        }
    }

    private static void assertRelError(String what, double[] ref, float[] got, double tol) {
        assertEquals(ref.length, got.length, what + " length");
        double diff = 0, norm = 0;
        for (int i = 0; i < ref.length; i++) {
            diff += (got[i] - ref[i]) * (got[i] - ref[i]);
            norm += ref[i] * ref[i];
        }
        double rel = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
        assertTrue(rel < tol, what + ": relative error " + rel + " >= " + tol);
    }

    // ---- forward against a naive double-precision scan ---------------------------------------

    @Test
    void forwardMatchesNaiveScanOnAwkwardShapes() {
        int[][] shapes = { // b, d, l, n
            {2, 19, 37, 16}, {1, 40, 37, 8}, {3, 7, 33, 5}, {2, 33, 1, 16}, {1, 17, 64, 8}, {5, 3, 13, 1}};
        SplittableRandom rng = new SplittableRandom(7);
        for (int[] s : shapes) {
            for (int variant = 0; variant < 4; variant++) {
                boolean withD = variant % 2 == 0, withBias = variant < 2, softplus = variant != 3;
                Inputs in = Inputs.random(rng, s[0], s[1], s[2], s[3], withD, withBias, softplus);
                Tensor y;
                try (var ng = Tape.noGrad()) {
                    y = in.forward();
                }
                double[] ref = naive(in);
                double diff = 0, norm = 0;
                for (int i = 0; i < ref.length; i++) {
                    diff += (y.data[i] - ref[i]) * (y.data[i] - ref[i]);
                    norm += ref[i] * ref[i];
                }
                double rel = Math.sqrt(diff / norm);
                assertTrue(rel < 2e-6, java.util.Arrays.toString(s) + " variant " + variant + ": relative error " + rel);
            }
        }
    }

    @Test
    void largeDtTimesAIsClampedNotGarbage() {
        // dt*A far below the float exponent range: dA underflows to (almost) 0 and h is just the input term.
        Tensor u = Tensor.full(1f, 1, 3, 4), delta = Tensor.full(50f, 1, 3, 4);
        Tensor A = Tensor.full(-10f, 3, 2), B = Tensor.full(1f, 1, 2, 4), C = Tensor.full(1f, 1, 2, 4);
        Tensor y = SelectiveScan.forward(u, delta, A, B, C, null, null, true);
        for (float v : y.data) assertEquals(100f, v, 1e-3f);
    }

    // ---- gradients ---------------------------------------------------------------------------

    @Test
    void gradCheckAllInputs() {
        SplittableRandom rng = new SplittableRandom(11);
        int[][] shapes = {{2, 5, 7, 3}, {1, 19, 13, 4}};
        for (int[] s : shapes) {
            for (boolean softplus : new boolean[] {true, false}) {
                Inputs in = Inputs.random(rng, s[0], s[1], s[2], s[3], true, true, softplus);
                in.u.name("u");
                in.delta.name("delta");
                in.A.name("A");
                in.B.name("B");
                in.C.name("C");
                in.D.name("D");
                in.bias.name("deltaBias");
                GradCheck.check("SelectiveScan", in::forward, 1e-2, 2e-2, in.u, in.delta, in.A, in.B, in.C, in.D, in.bias);
            }
        }
    }

    @Test
    void backwardTouchesOnlyInputsThatNeedGrad() {
        Inputs in = Inputs.random(new SplittableRandom(3), 2, 9, 11, 4, true, true, true);
        in.u.requiresGrad(true);
        in.C.requiresGrad(true);
        Tape.clear();
        Tensor y = in.forward();
        float[] dy = new float[y.numel()];
        java.util.Arrays.fill(dy, 1f);
        Tape.backward(y, dy);
        assertTrue(in.u.grad != null && in.C.grad != null);
        for (Tensor t : new Tensor[] {in.delta, in.A, in.B, in.D, in.bias}) assertNull(t.grad);
        // Gradients accumulate: a second identical pass doubles them.
        float[] gu1 = in.u.grad.clone();
        Tensor y2 = in.forward();
        Tape.backward(y2, dy);
        for (int i = 0; i < gu1.length; i++) assertEquals(2 * gu1[i], in.u.grad[i], 1e-5f * Math.max(1f, Math.abs(gu1[i])));
    }

    @Test
    void gradientsMatchNaiveBackwardWithoutOptionalInputs() {
        // No D and no bias: the remaining gradients against finite differences of the double-precision scan.
        SplittableRandom rng = new SplittableRandom(5);
        Inputs in = Inputs.random(rng, 2, 21, 35, 16, false, false, true);
        for (Tensor t : new Tensor[] {in.u, in.delta, in.A, in.B, in.C}) t.requiresGrad(true);
        Tape.clear();
        Tensor y = in.forward();
        float[] w = new float[y.numel()];
        for (int i = 0; i < w.length; i++) w[i] = (float) Tensor.gaussian(rng);
        Tape.backward(y, w);
        for (Tensor t : new Tensor[] {in.u, in.delta, in.A, in.B, in.C}) {
            for (int probe = 0; probe < 12; probe++) {
                int i = rng.nextInt(t.numel());
                float orig = t.data[i];
                double h = 1e-3 * Math.max(1, Math.abs(orig));
                t.data[i] = (float) (orig + h);
                double hp = t.data[i] - orig;
                double plus = dot(naive(in), w);
                t.data[i] = (float) (orig - h);
                double hm = orig - t.data[i];
                double minus = dot(naive(in), w);
                t.data[i] = orig;
                double num = (plus - minus) / (hp + hm);
                assertEquals(num, t.grad[i], 2e-3 * Math.max(1, Math.abs(num)), "probe " + i + " of " + t.shapeString());
            }
        }
    }

    @Test
    void rejectsBadShapes() {
        Tensor u = Tensor.zeros(2, 4, 5), A = Tensor.zeros(4, 3), B = Tensor.zeros(2, 3, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> SelectiveScan.forward(u, Tensor.zeros(2, 4, 6), A, B, B, null, null, true));
        assertTrue(e.getMessage().contains("SelectiveScan") && e.getMessage().contains("[2, 4, 6]"));
        assertThrows(IllegalArgumentException.class, () -> SelectiveScan.forward(u, u, Tensor.zeros(5, 3), B, B, null, null, true));
        assertThrows(IllegalArgumentException.class, () -> SelectiveScan.forward(u, u, A, Tensor.zeros(2, 4, 5), B, null, null, true));
        assertThrows(IllegalArgumentException.class, () -> SelectiveScan.forward(u, u, A, B, B, Tensor.zeros(3), null, true));
    }

    private static double dot(double[] a, float[] w) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * w[i];
        return s;
    }

    private record Inputs(Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D, Tensor bias, boolean softplus) {
        static Inputs random(SplittableRandom rng, int b, int d, int l, int n, boolean withD, boolean withBias, boolean softplus) {
            Tensor u = Tensor.randn(rng, 1f, b, d, l);
            // Pre-softplus deltas around -2..1 as in Mamba (dt ~ 0.1 .. 1.3); without softplus keep dt positive.
            Tensor delta = softplus ? Tensor.uniform(rng, -3f, 1f, b, d, l) : Tensor.uniform(rng, 0.01f, 1f, b, d, l);
            Tensor A = Tensor.uniform(rng, -2f, -0.05f, d, n);
            Tensor B = Tensor.randn(rng, 1f, b, n, l), C = Tensor.randn(rng, 1f, b, n, l);
            Tensor D = withD ? Tensor.randn(rng, 1f, d) : null;
            Tensor bias = withBias ? Tensor.uniform(rng, -0.5f, 0.5f, d) : null;
            return new Inputs(u, delta, A, B, C, D, bias, softplus);
        }

        Tensor forward() {
            return SelectiveScan.forward(u, delta, A, B, C, D, bias, softplus);
        }
    }

    /** The recurrence exactly as written in mamba_ssm's reference, in double. */
    private static double[] naive(Inputs in) {
        int b = in.u.dim(0), d = in.u.dim(1), l = in.u.dim(2), n = in.A.dim(1);
        double[] y = new double[b * d * l];
        for (int bi = 0; bi < b; bi++) {
            for (int c = 0; c < d; c++) {
                double[] h = new double[n];
                for (int t = 0; t < l; t++) {
                    int i = (bi * d + c) * l + t;
                    double dt = in.delta.data[i] + (in.bias == null ? 0 : in.bias.data[c]);
                    if (in.softplus && dt <= 20) dt = Math.log1p(Math.exp(dt));
                    double acc = 0;
                    for (int k = 0; k < n; k++) {
                        int bk = (bi * n + k) * l + t;
                        h[k] = Math.exp(dt * in.A.data[c * n + k]) * h[k] + dt * in.B.data[bk] * in.u.data[i];
                        acc += in.C.data[bk] * h[k];
                    }
                    y[i] = acc + (in.D == null ? 0 : in.D.data[c] * in.u.data[i]);
                }
            }
        }
        return y;
    }

    // ---- a tiny safetensors reader (F32, F64) ------------------------------------------------

    private record Loaded(int[] shape, double[] values) {
        Tensor tensor() {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
            return Tensor.of(f, shape);
        }
    }

    private static Map<String, Loaded> readSafetensors(Path file) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = (int) all.getLong(0);
        String header = new String(all.array(), 8, headerLen, StandardCharsets.UTF_8);
        int dataStart = 8 + headerLen;
        Map<String, Loaded> out = new HashMap<>();
        Matcher m = Pattern.compile("\"([^\"]+)\"\\s*:\\s*\\{\\s*\"dtype\"\\s*:\\s*\"(\\w+)\"\\s*,\\s*\"shape\"\\s*:\\s*\\[([^]]*)]\\s*,"
                + "\\s*\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]\\s*}").matcher(header);
        while (m.find()) {
            String dims = m.group(3).trim();
            int[] shape = dims.isEmpty() ? new int[0] : java.util.Arrays.stream(dims.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            int begin = dataStart + Integer.parseInt(m.group(4)), end = dataStart + Integer.parseInt(m.group(5));
            int width = switch (m.group(2)) {
                case "F32" -> 4;
                case "F64" -> 8;
                default -> 0; // other dtypes are not needed here
            };
            if (width == 0) continue;
            double[] v = new double[(end - begin) / width];
            for (int i = 0; i < v.length; i++) v[i] = width == 4 ? all.getFloat(begin + 4 * i) : all.getDouble(begin + 8 * i);
            out.put(m.group(1), new Loaded(shape, v));
        }
        return out;
    }
}
