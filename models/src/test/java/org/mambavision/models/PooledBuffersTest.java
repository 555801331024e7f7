package org.mambavision.models;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.models.blocks.Block;
import org.mambavision.models.nn.Module;

/**
 * Training steps and inference inside {@link BufferPool} scopes give bit-identical results to plain
 * allocation, with reused buffers poisoned (NaN): an op that took an uninitialised output or gradient
 * and did not overwrite all of it would show up here.
 */
class PooledBuffersTest {
    @AfterEach
    void unpoison() {
        BufferPool.poison(false);
    }

    @ParameterizedTest
    @CsvSource({"mambavision_mini,32,false", "flat_tiny,64,false", "flat_tiny,64,true", "mambavision_mini,32,true"})
    void pooledStepsMatchPlainAllocation(String model, int size, boolean checkpointing) {
        VisionModel m = ModelRegistry.create(model, ModelOptions.defaults().withClasses(10).withImgSize(size).withDropPath(0f).withSeed(7));
        Module mod = (Module) m;
        if (checkpointing) enableCheckpointing(mod);
        mod.train(true);
        Tensor x = Tensor.randn(new SplittableRandom(3), 1f, 4, 3, size, size);
        int[] labels = {1, 7, 3, 9};

        float[] refLogits = step(m, x, labels).clone();
        Map<String, float[]> refGrads = grads(mod);

        BufferPool.poison(true);
        for (int rep = 0; rep < 3; rep++) {
            mod.train(true);
            try (BufferPool.Scope s = BufferPool.open()) {
                assertArrayEquals(refLogits, step(m, x, labels), model + " logits, pooled step " + rep);
            }
            for (Map.Entry<String, float[]> e : grads(mod).entrySet()) {
                assertArrayEquals(refGrads.get(e.getKey()), e.getValue(), model + " grad " + e.getKey() + ", pooled step " + rep);
            }
            mod.train(false);
            float[] refEval, eval;
            try (var ng = Tape.noGrad()) {
                refEval = m.forward(x).data; // each training step moved the BatchNorm running stats
            }
            try (BufferPool.Scope s = BufferPool.open(); var ng = Tape.noGrad()) {
                eval = s.escape(m.forward(x)).data;
            }
            try (BufferPool.Scope s = BufferPool.open(); var ng = Tape.noGrad()) {
                m.forward(x); // reuses (and poisons) every buffer of the previous pass: the escaped logits must survive
            }
            assertArrayEquals(refEval, eval, model + " eval logits, pooled pass " + rep);
        }
    }

    /** One forward and backward from zero gradients; returns the logits (valid while the caller's scope is open). */
    private static float[] step(VisionModel m, Tensor x, int[] labels) {
        ((Module) m).zeroGrad();
        Tensor logits = m.forward(x);
        CrossEntropy.forward(logits, labels, 0.1f).backward();
        return logits.data;
    }

    private static Map<String, float[]> grads(Module m) {
        Map<String, float[]> g = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
            assertNotNull(e.getValue().grad, "no gradient for " + e.getKey());
            g.put(e.getKey(), e.getValue().grad.clone());
        }
        return g;
    }

    private static void enableCheckpointing(Module m) {
        if (m instanceof Block b) b.setCheckpointing(true);
        for (Module c : m.children().values()) enableCheckpointing(c);
    }
}
