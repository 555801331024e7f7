package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tensor;

/**
 * AdamW, SGD and LAMB against independent double-precision references written from the torch / timm
 * formulas, plus checkpoint resume and determinism.
 */
class OptimizersTest {
    private static final float[] LRS = {0.01f, 0.05f, 0.02f, 0.03f, 0.008f, 0.04f};

    /**
     * Decay params: a 2-D weight with odd sizes (vector tail), a weight bigger than one chunk (several chunks);
     * no-decay: a bias, a 2-D A_log, a layer scale.
     */
    static Map<String, Tensor> params(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("levels.0.blocks.0.conv1.weight", fill(Tensor.zeros(7, 13), rng, 3.0)); // trust ratio > 1: exercises trustClip
        m.put("levels.2.blocks.0.mixer.in_proj.weight", fill(Tensor.zeros(211, 199), rng, 0.05));
        m.put("levels.0.blocks.0.conv1.bias", fill(Tensor.zeros(33), rng, 0.1));
        m.put("levels.2.blocks.0.mixer.A_log", fill(Tensor.zeros(5, 9), rng, 1.0));
        m.put("levels.3.blocks.1.gamma_1", fill(Tensor.zeros(17), rng, 0.3));
        return m;
    }

    private static Tensor fill(Tensor t, SplittableRandom rng, double std) {
        for (int i = 0; i < t.data.length; i++) t.data[i] = (float) (Tensor.gaussian(rng) * std);
        return t.requiresGrad(true);
    }

    /** Gradients for step {@code step}; the bias gets none at step 2 (a skipped parameter). */
    static void setGrads(Map<String, Tensor> params, int step, double scale) {
        SplittableRandom rng = new SplittableRandom(1000 + step);
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor t = e.getValue();
            if (step == 2 && e.getKey().endsWith("conv1.bias")) {
                t.grad = null;
                continue;
            }
            float[] g = new float[t.numel()];
            for (int i = 0; i < g.length; i++) g[i] = (float) (Tensor.gaussian(rng) * scale);
            t.grad = g;
        }
    }

    // ---- double-precision references ---------------------------------------------------------

    /** A parameter in the reference: values, gradient, state. */
    static final class Ref {
        double[] p, g, m, v;
        long step;
        boolean decay;
    }

    static Map<String, Ref> refOf(Map<String, Tensor> params) {
        Map<String, Ref> out = new LinkedHashMap<>();
        ParamGroups groups = ParamGroups.of(params);
        params.forEach((k, t) -> {
            Ref r = new Ref();
            r.p = toDouble(t.data);
            r.decay = groups.decay().containsKey(k);
            out.put(k, r);
        });
        return out;
    }

    static void copyGrads(Map<String, Tensor> params, Map<String, Ref> ref) {
        params.forEach((k, t) -> ref.get(k).g = t.grad == null ? null : toDouble(t.grad));
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** torch.optim.AdamW, per-parameter step count. */
    static void refAdamW(Map<String, Ref> ref, double lr, double b1, double b2, double eps, double wd) {
        for (Ref r : ref.values()) {
            if (r.g == null) continue;
            if (r.m == null) {
                r.m = new double[r.p.length];
                r.v = new double[r.p.length];
            }
            r.step++;
            double w = r.decay ? wd : 0, bc1 = 1 - Math.pow(b1, r.step), bc2 = 1 - Math.pow(b2, r.step);
            for (int i = 0; i < r.p.length; i++) {
                r.p[i] *= 1 - lr * w;
                r.m[i] = b1 * r.m[i] + (1 - b1) * r.g[i];
                r.v[i] = b2 * r.v[i] + (1 - b2) * r.g[i] * r.g[i];
                r.p[i] -= lr / bc1 * r.m[i] / (Math.sqrt(r.v[i]) / Math.sqrt(bc2) + eps);
            }
        }
    }

    /** torch.optim.SGD; the momentum buffer starts as the first (decayed) gradient. */
    static void refSgd(Map<String, Ref> ref, double lr, double mom, double damp, double wd, boolean nesterov) {
        for (Ref r : ref.values()) {
            if (r.g == null) continue;
            boolean init = r.m == null;
            if (init && mom != 0) r.m = new double[r.p.length];
            double w = r.decay ? wd : 0;
            for (int i = 0; i < r.p.length; i++) {
                double d = r.g[i] + w * r.p[i];
                if (mom != 0) {
                    r.m[i] = init ? d : mom * r.m[i] + (1 - damp) * d;
                    d = nesterov ? d + mom * r.m[i] : r.m[i];
                }
                r.p[i] -= lr * d;
            }
        }
    }

    /** timm Lamb: global grad clip at maxNorm, one step count for all, trust ratio where wd != 0. */
    static void refLamb(Map<String, Ref> ref, long step, double lr, double b1, double b2, double eps, double wd,
                        double maxNorm, boolean trustClip) {
        double sq = 0;
        for (Ref r : ref.values()) if (r.g != null) for (double x : r.g) sq += x * x;
        double div = Math.max(1, Math.sqrt(sq) / maxNorm);
        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
        for (Ref r : ref.values()) {
            if (r.g == null) continue;
            if (r.m == null) {
                r.m = new double[r.p.length];
                r.v = new double[r.p.length];
            }
            double w = r.decay ? wd : 0;
            double[] u = new double[r.p.length];
            double pn = 0, un = 0;
            for (int i = 0; i < r.p.length; i++) {
                double g = r.g[i] / div;
                r.m[i] = b1 * r.m[i] + (1 - b1) * g;
                r.v[i] = b2 * r.v[i] + (1 - b2) * g * g;
                u[i] = (r.m[i] / bc1) / (Math.sqrt(r.v[i]) / Math.sqrt(bc2) + eps) + w * r.p[i];
                pn += r.p[i] * r.p[i];
                un += u[i] * u[i];
            }
            double trust = 1;
            if (w != 0) {
                pn = Math.sqrt(pn);
                un = Math.sqrt(un);
                trust = pn > 0 && un > 0 ? pn / un : 1;
                if (trustClip) trust = Math.min(trust, 1);
            }
            for (int i = 0; i < r.p.length; i++) r.p[i] -= lr * trust * u[i];
        }
    }

    static void assertClose(Map<String, Ref> ref, Map<String, Tensor> params, double tol, String what) {
        params.forEach((k, t) -> {
            double[] e = ref.get(k).p;
            for (int i = 0; i < e.length; i++) {
                double err = Math.abs(t.data[i] - e[i]);
                assertTrue(err <= tol * (1 + Math.abs(e[i])), () -> what + ": " + k + " differs from the reference");
            }
        });
    }

    // ---- hand-computed first steps -----------------------------------------------------------

    @Test
    void adamwFirstStepByHand() {
        Tensor w = Tensor.full(1f, 2, 2).requiresGrad(true);
        w.grad = new float[] {0.5f, -2f, 1e-3f, 0f};
        Map<String, Tensor> named = Map.of("fc.weight", w);
        new AdamW(ParamGroups.of(named), 0.9, 0.999, 1e-8, 0.01).step(0.1f);
        // Bias-corrected first step: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps), after p *= 1 - lr*wd.
        assertEquals(0.999 - 0.1, w.data[0], 1e-6);
        assertEquals(0.999 + 0.1, w.data[1], 1e-6);
        assertEquals(0.999 - 0.1 * 1e-3 / (1e-3 + 1e-8), w.data[2], 1e-6);
        assertEquals(0.999, w.data[3], 1e-7);
    }

    @Test
    void sgdNesterovTwoStepsByHand() {
        Tensor w = Tensor.full(2f, 1, 1).requiresGrad(true);
        Sgd sgd = new Sgd(ParamGroups.of(Map.of("w", w)), 0.9, 0.1, true);
        w.grad = new float[] {1f};
        sgd.step(0.5f);
        // d = 1 + 0.1*2 = 1.2; buf = 1.2; d = 1.2 + 0.9*1.2 = 2.28; p = 2 - 0.5*2.28 = 0.86
        assertEquals(0.86, w.data[0], 1e-6);
        w.grad = new float[] {-1f};
        sgd.step(0.5f);
        // d = -1 + 0.086 = -0.914; buf = 0.9*1.2 - 0.914 = 0.166; d = -0.914 + 0.9*0.166 = -0.7646; p = 0.86 + 0.3823
        assertEquals(1.2423, w.data[0], 1e-6);
    }

    @Test
    void lambFirstStepByHand() {
        Tensor w = Tensor.of(new float[] {3f, 4f}, 2).name("w");
        Tensor x = Tensor.of(new float[] {3f, 4f}, 1, 2).requiresGrad(true);
        x.grad = new float[] {0.6f, -0.8f}; // norm 1: no clipping at maxGradNorm 1
        new Lamb(ParamGroups.of(Map.of("fc.weight", x)), 0.9, 0.999, 0, 0.5).step(0.1f);
        // u = sign(g) + 0.5 p = (2.5, 1); ||p|| = 5, ||u|| = sqrt(7.25); p -= 0.1 * 5/sqrt(7.25) * u
        double tr = 5 / Math.sqrt(7.25);
        assertEquals(3 - 0.1 * tr * 2.5, x.data[0], 1e-6);
        assertEquals(4 - 0.1 * tr * 1.0, x.data[1], 1e-6);
        assertEquals(3f, w.data[0]);
    }

    // ---- multi-step comparisons with the references ------------------------------------------

    @Test
    void adamwMatchesReference() {
        Map<String, Tensor> p = params(1);
        Map<String, Ref> ref = refOf(p);
        AdamW opt = new AdamW(ParamGroups.of(p), 0.9, 0.999, 1e-8, 0.05);
        for (int s = 0; s < LRS.length; s++) {
            setGrads(p, s, 1.0);
            copyGrads(p, ref);
            opt.step(LRS[s]);
            refAdamW(ref, LRS[s], 0.9, 0.999, 1e-8, 0.05);
        }
        assertClose(ref, p, 2e-5, "AdamW");
        assertEquals(LRS.length, opt.stepCount());
        assertArrayEquals(new float[] {LRS.length - 1}, opt.state().get("step.levels.0.blocks.0.conv1.bias"));
        assertArrayEquals(new float[] {LRS.length}, opt.state().get("step.levels.2.blocks.0.mixer.A_log"));
    }

    @Test
    void sgdMatchesReference() {
        for (boolean nesterov : new boolean[] {false, true}) {
            for (double damp : nesterov ? new double[] {0} : new double[] {0, 0.3}) {
                Map<String, Tensor> p = params(2);
                Map<String, Ref> ref = refOf(p);
                Sgd opt = new Sgd(ParamGroups.of(p), 0.9, damp, 1e-2, nesterov);
                for (int s = 0; s < LRS.length; s++) {
                    setGrads(p, s, 1.0);
                    copyGrads(p, ref);
                    opt.step(LRS[s]);
                    refSgd(ref, LRS[s], 0.9, damp, 1e-2, nesterov);
                }
                assertClose(ref, p, 1e-5, "SGD nesterov=" + nesterov + " dampening=" + damp);
            }
        }
        Map<String, Tensor> p = params(3);
        Map<String, Ref> ref = refOf(p);
        Sgd plain = new Sgd(ParamGroups.of(p), 0, 1e-2, false);
        setGrads(p, 0, 1.0);
        copyGrads(p, ref);
        plain.step(0.1f);
        refSgd(ref, 0.1, 0, 0, 1e-2, false);
        assertClose(ref, p, 1e-6, "SGD without momentum");
        assertTrue(plain.state().isEmpty(), "no momentum buffers without momentum");
    }

    @Test
    void lambMatchesReference() {
        for (boolean trustClip : new boolean[] {false, true}) {
            for (double gradScale : new double[] {1e-3, 1.0}) { // global norm below and above maxGradNorm = 1
                Map<String, Tensor> p = params(4);
                Map<String, Ref> ref = refOf(p);
                Lamb opt = new Lamb(ParamGroups.of(p), 0.9, 0.999, 1e-6, 0.05, 1.0, false, trustClip);
                for (int s = 0; s < LRS.length; s++) {
                    setGrads(p, s, gradScale);
                    copyGrads(p, ref);
                    Map<String, float[]> before = new HashMap<>();
                    p.forEach((k, t) -> before.put(k, t.grad == null ? null : t.grad.clone()));
                    opt.step(LRS[s]);
                    refLamb(ref, s + 1, LRS[s], 0.9, 0.999, 1e-6, 0.05, 1.0, trustClip);
                    p.forEach((k, t) -> assertArrayEquals(before.get(k), t.grad, "Lamb must not modify p.grad"));
                }
                assertClose(ref, p, 2e-5, "Lamb trustClip=" + trustClip + " gradScale=" + gradScale);
                assertTrue(opt.lastTrustRatioMin() < 1, "some trust ratio below 1");
                if (trustClip) assertEquals(1.0, opt.lastTrustRatioMax(), 0.0);
                else assertTrue(opt.lastTrustRatioMax() > 1, "some trust ratio above 1, so clipping matters");
            }
        }
    }

    // ---- checkpoint resume and determinism ---------------------------------------------------

    static Map<String, Tensor> copyParams(Map<String, Tensor> p) {
        Map<String, Tensor> c = new LinkedHashMap<>();
        p.forEach((k, t) -> c.put(k, t.copy().requiresGrad(true)));
        return c;
    }

    static void assertSameBits(Map<String, Tensor> a, Map<String, Tensor> b, String what) {
        a.forEach((k, t) -> assertArrayEquals(t.data, b.get(k).data, what + ": " + k));
    }

    private static final Map<String, Function<ParamGroups, Optimizer>> FACTORIES = Map.of(
            "adamw", g -> new AdamW(g, 0.9, 0.999, 1e-8, 0.05),
            "sgd", g -> new Sgd(g, 0.9, 0.2, 1e-2, false),
            "nesterov", g -> new Sgd(g, 0.9, 1e-2, true),
            "lamb", g -> new Lamb(g, 0.9, 0.999, 1e-6, 0.05));

    @Test
    void resumeFromStateIsIdenticalToUninterrupted() {
        FACTORIES.forEach((name, make) -> {
            Map<String, Tensor> p = params(5);
            Optimizer a = make.apply(ParamGroups.of(p));
            for (int s = 0; s < 3; s++) {
                setGrads(p, s, 1.0);
                a.step(LRS[s]);
            }
            Map<String, float[]> saved = a.state();
            Map<String, Tensor> resumed = copyParams(p);
            Optimizer b = make.apply(ParamGroups.of(resumed));
            b.loadState(saved, a.stepCount());
            assertEquals(3, b.stepCount());
            for (int s = 3; s < LRS.length; s++) {
                setGrads(p, s, 1.0);
                setGrads(resumed, s, 1.0);
                a.step(LRS[s]);
                b.step(LRS[s]);
            }
            assertSameBits(p, resumed, name + " resumed");
            Map<String, float[]> sa = a.state(), sb = b.state();
            assertEquals(sa.keySet(), sb.keySet());
            sa.forEach((k, v) -> assertArrayEquals(v, sb.get(k), name + " state " + k));
        });
    }

    @Test
    void stateKeysAndValidation() {
        Map<String, Tensor> p = params(6);
        AdamW adam = new AdamW(ParamGroups.of(p), 0.0);
        setGrads(p, 0, 1.0);
        adam.step(0.01f);
        assertTrue(adam.state().containsKey("exp_avg.levels.2.blocks.0.mixer.A_log"));
        assertTrue(adam.state().containsKey("exp_avg_sq.levels.0.blocks.0.conv1.weight"));
        Sgd sgd = new Sgd(ParamGroups.of(p), 0.9, 0, false);
        sgd.step(0.01f);
        assertTrue(sgd.state().containsKey("momentum_buffer.levels.3.blocks.1.gamma_1"));

        Map<String, float[]> bad = new HashMap<>(adam.state());
        bad.put("exp_avg.levels.3.blocks.1.gamma_1", new float[3]);
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(bad, 1));
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(Map.of("exp_avg.nope", new float[1]), 1));
        assertThrows(IllegalArgumentException.class, () -> adam.loadState(Map.of("velocity.head.bias", new float[1]), 1));
        assertThrows(IllegalArgumentException.class, () -> adam.step(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(ParamGroups.of(p), 0.9, 0.1, 0, true));
        assertThrows(IllegalArgumentException.class, () -> Optimizers.create("adam", ParamGroups.of(p), 0, 0.9, 0.999, 1e-8, 0.9, false));

        adam.zeroGrad();
        p.values().forEach(t -> assertEquals(null, t.grad));
        long before = adam.stepCount();
        float[] w = p.get("levels.0.blocks.0.conv1.weight").data.clone();
        adam.step(0.01f); // nothing has a gradient: parameters unchanged, count goes on
        assertArrayEquals(w, p.get("levels.0.blocks.0.conv1.weight").data);
        assertEquals(before + 1, adam.stepCount());
    }

    @Test
    void resultsDoNotDependOnThreads() {
        FACTORIES.forEach((name, make) -> {
            Map<String, Tensor> parallel = params(7), inline = params(7);
            Optimizer a = make.apply(ParamGroups.of(parallel)), b = make.apply(ParamGroups.of(inline));
            for (int s = 0; s < 3; s++) {
                setGrads(parallel, s, 1.0);
                setGrads(inline, s, 1.0);
                float lr = LRS[s];
                a.step(lr);
                // Inside a parallel region nested work runs inline on one thread.
                Parallel.forEach(2, i -> {
                    if (i == 0) b.step(lr);
                });
            }
            assertSameBits(parallel, inline, name + " single-thread vs pool");
        });
    }

    @Test
    void factoryNames() {
        Map<String, Tensor> p = params(8);
        ParamGroups g = ParamGroups.of(p);
        assertTrue(Optimizers.create("AdamW", g, 0.05, 0.9, 0.999, 1e-8, 0, false) instanceof AdamW);
        assertTrue(Optimizers.create("lamb", g, 0.05, 0.9, 0.999, 1e-8, 0, false) instanceof Lamb);
        assertTrue(Optimizers.create("sgd", g, 0.05, 0.9, 0.999, 1e-8, 0.9, false) instanceof Sgd);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Optimizers.create("rmsprop", g, 0.05, 0.9, 0.999, 1e-8, 0.9, false));
        for (String n : Optimizers.NAMES) assertTrue(e.getMessage().contains(n), e.getMessage());
    }

    @Test
    void factoryPassesNesterovToSgd() {
        for (boolean nesterov : new boolean[] {false, true}) {
            Map<String, Tensor> p = params(9);
            Map<String, Ref> ref = refOf(p);
            Optimizer opt = Optimizers.create("sgd", ParamGroups.of(p), 1e-2, 0.9, 0.999, 1e-8, 0.9, nesterov);
            for (int s = 0; s < 3; s++) {
                setGrads(p, s, 1.0);
                copyGrads(p, ref);
                opt.step(LRS[s]);
                refSgd(ref, LRS[s], 0.9, 0, 1e-2, nesterov);
            }
            assertClose(ref, p, 1e-5, "Optimizers.create(sgd, nesterov=" + nesterov + ")");
        }
    }
}
