package org.mambavision.models;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.junit.jupiter.api.Test;

class FreezeForInferenceTest {
    private static Tensor logits(VisionModel m, Tensor x) {
        try (var g = Tape.noGrad()) {
            return m.forward(x);
        }
    }

    /** Packed weights are copies in the GEMM's layout: the same bits as the plain eval forward, at batch 1 and above. */
    @ParameterizedTest
    @CsvSource({"mambavision_mini,1", "mambavision_mini,3", "flat_tiny,1", "flat_tiny,2"})
    void frozenForwardGivesTheSameBits(String name, int batch) {
        VisionModel m = ModelRegistry.create(name);
        Tensor x = Tensor.randn(new SplittableRandom(5), 1f, batch, m.inChans(), m.defaultImgSize(), m.defaultImgSize());
        m.train(false);
        Tensor plain = logits(m, x);
        m.freezeForInference();
        assertFalse(m.training());
        assertArrayEquals(plain.data, logits(m, x).data);
        assertArrayEquals(plain.data, logits(m, x).data, "second call (packed copies reused)");
    }

    /**
     * A frozen model keeps its convolutions' BatchNorm folds and their derived weights (Winograd transforms, packed
     * transposes); loading new convolution weights and BatchNorm statistics drops them.
     */
    @Test
    void loadingConvolutionWeightsDropsTheKeptFolds() {
        VisionModel m = ModelRegistry.create("mambavision_mini");
        Tensor x = Tensor.randn(new SplittableRandom(9), 1f, 1, m.inChans(), m.defaultImgSize(), m.defaultImgSize());
        m.freezeForInference();
        Tensor before = logits(m, x);
        assertArrayEquals(before.data, logits(m, x).data, "kept folds give the bits of the first call");
        Map<String, Tensor> sd = replaced(m, 10, (k, t) -> k.endsWith("weight") && t.rank() == 4 || k.endsWith("running_mean"));
        Weights.load(m, sd, true);
        m.freezeForInference();
        Tensor after = logits(m, x);
        VisionModel fresh = ModelRegistry.create("mambavision_mini");
        Weights.load(fresh, sd, true);
        fresh.train(false);
        assertArrayEquals(logits(fresh, x).data, after.data, "the new weights are folded, not the kept ones");
        assertFalse(java.util.Arrays.equals(before.data, after.data));
    }

    /** The model's state dict with random values (std 0.05) for the entries {@code which} picks, copies of the rest. */
    private static Map<String, Tensor> replaced(VisionModel m, long seed, java.util.function.BiPredicate<String, Tensor> which) {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
            Tensor t = e.getValue();
            sd.put(e.getKey(), which.test(e.getKey(), t) ? Tensor.randn(rng, 0.05f, t.shape()) : t.copy());
        }
        return sd;
    }

    /** Loading weights and train mode end the freeze: later results follow the new weights. */
    @Test
    void changingWeightsThroughTheApiUnfreezes() {
        VisionModel m = ModelRegistry.create("flat_tiny");
        Tensor x = Tensor.randn(new SplittableRandom(6), 1f, 1, m.inChans(), m.defaultImgSize(), m.defaultImgSize());
        m.freezeForInference();
        Tensor before = logits(m, x);
        // new weights for every linear layer, loaded through Weights.load
        Map<String, Tensor> sd = replaced(m, 8, (k, t) -> k.endsWith("weight") && t.rank() == 2);
        Weights.load(m, sd, true);
        Tensor afterLoad = logits(m, x);
        VisionModel fresh = ModelRegistry.create("flat_tiny");
        Weights.load(fresh, sd, true);
        fresh.train(false);
        assertArrayEquals(logits(fresh, x).data, afterLoad.data, "loaded weights are used, not stale packed copies");
        assertFalse(java.util.Arrays.equals(before.data, afterLoad.data));

        m.freezeForInference();
        m.train(true);
        for (Tensor w : m.namedParameters().values()) if (w.rank() == 2) java.util.Arrays.fill(w.data, 0f);
        m.train(false);
        Tensor zeroed = logits(m, x);
        m.unfreeze();
        assertArrayEquals(logits(m, x).data, zeroed.data, "train(true) dropped the packed copies");
    }
}
