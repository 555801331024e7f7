package org.mambavision.training.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tensor;

class EmaTest {
    static Map<String, Tensor> model(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("levels.0.blocks.0.conv1.weight", Tensor.randn(rng, 1, 40_000).requiresGrad(true)); // two chunks
        m.put("levels.0.blocks.0.norm1.weight", Tensor.randn(rng, 1, 13).requiresGrad(true));
        m.put("levels.0.blocks.0.norm1.running_mean", Tensor.randn(rng, 1, 13));
        m.put("levels.0.blocks.0.norm1.num_batches_tracked", Tensor.scalar(7f));
        return m;
    }

    @Test
    void averagesParametersAndBuffersLikeModelEmaV2() {
        Map<String, Tensor> live = model(1);
        Ema ema = new Ema(live, 0.9);
        Map<String, double[]> ref = new LinkedHashMap<>();
        live.forEach((k, t) -> ref.put(k, OptimizersTest.toDouble(t.data)));
        for (int step = 0; step < 3; step++) {
            Map<String, Tensor> next = model(10 + step);
            next.forEach((k, t) -> System.arraycopy(t.data, 0, live.get(k).data, 0, t.numel()));
            ema.update(live);
            live.forEach((k, t) -> {
                double[] r = ref.get(k);
                boolean counter = k.endsWith("num_batches_tracked");
                for (int i = 0; i < r.length; i++) r[i] = counter ? t.data[i] : 0.9 * r[i] + 0.1 * t.data[i];
            });
        }
        ref.forEach((k, r) -> {
            float[] s = ema.shadow().get(k).data;
            for (int i = 0; i < r.length; i++) assertEquals(r[i], s[i], 1e-6 * (1 + Math.abs(r[i])), k);
        });
        assertEquals(live.get("levels.0.blocks.0.norm1.num_batches_tracked").item(),
                ema.shadow().get("levels.0.blocks.0.norm1.num_batches_tracked").item());
    }

    @Test
    void buffersCanBeCopied() {
        Map<String, Tensor> live = model(2);
        Ema ema = new Ema(live, 0.5, false);
        Tensor w = live.get("levels.0.blocks.0.norm1.weight"), rm = live.get("levels.0.blocks.0.norm1.running_mean");
        float w0 = w.data[0];
        w.data[0] = w0 + 2;
        rm.data[0] = 42;
        ema.update(live);
        assertEquals(w0 + 1, ema.shadow().get("levels.0.blocks.0.norm1.weight").data[0], 1e-6);
        assertEquals(42f, ema.shadow().get("levels.0.blocks.0.norm1.running_mean").data[0]);
    }

    @Test
    void swapCopyToAndLoad() {
        Map<String, Tensor> live = model(3);
        Ema ema = new Ema(live, 0.99);
        Map<String, Tensor> trained = model(4);
        trained.forEach((k, t) -> System.arraycopy(t.data, 0, live.get(k).data, 0, t.numel()));
        ema.update(live);
        Map<String, float[]> liveBefore = new LinkedHashMap<>(), emaBefore = new LinkedHashMap<>();
        live.forEach((k, t) -> liveBefore.put(k, t.data.clone()));
        ema.shadow().forEach((k, t) -> emaBefore.put(k, t.data.clone()));

        ema.swap(live);
        live.forEach((k, t) -> assertArrayEquals(emaBefore.get(k), t.data, k));
        ema.swap(live);
        live.forEach((k, t) -> assertArrayEquals(liveBefore.get(k), t.data, k));

        Map<String, Tensor> eval = model(5);
        ema.copyTo(eval);
        eval.forEach((k, t) -> assertArrayEquals(emaBefore.get(k), t.data, k));

        Ema restored = new Ema(model(6), 0.99);
        restored.load(ema.shadow());
        restored.shadow().forEach((k, t) -> {
            assertArrayEquals(emaBefore.get(k), t.data, k);
            assertNotSame(ema.shadow().get(k).data, t.data);
        });

        Map<String, Tensor> wrong = model(7);
        wrong.remove("levels.0.blocks.0.norm1.running_mean");
        assertThrows(IllegalArgumentException.class, () -> ema.update(wrong));
        Map<String, Tensor> badShape = model(7);
        badShape.put("levels.0.blocks.0.norm1.running_mean", Tensor.zeros(14));
        assertThrows(IllegalArgumentException.class, () -> ema.copyTo(badShape));
    }
}
