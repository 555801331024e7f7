package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tensor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;

class TrainStepTest {
    /** A small flat hybrid (one Mamba block, one attention block) with drop path on, so masks matter. */
    static VisionModel flat() {
        return ModelRegistry.create("flat_tiny", new ModelOptions(3, 10, 0.5f, null, 32, 2, null, null, 8, 11L));
    }

    static final int BATCH = 7; // shards of 2 and 3 images: uneven

    /** Gradients (and loss, hits) of one step with the given shard count, after {@code calls} earlier forwards. */
    static Map<String, Tensor> step(int shards, boolean soft, float[] lossOut, int[] hitsOut) {
        return step(shards, BATCH, soft, lossOut, hitsOut);
    }

    /** As {@link #step(int, boolean, float[], int[])}, the batch run as micro-batches of at most {@code microBatch} images. */
    static Map<String, Tensor> step(int shards, int microBatch, boolean soft, float[] lossOut, int[] hitsOut) {
        VisionModel m = flat();
        m.train(true);
        for (int i = 0; i < 3; i++) m.stochasticDepth().nextCall(); // not the first call: replicas must follow the model's
        SplittableRandom rng = new SplittableRandom(5);
        Tensor x = Tensor.randn(rng, 1f, BATCH, 3, 32, 32);
        int[] labels = new int[BATCH];
        float[] targets = new float[BATCH * 10];
        for (int i = 0; i < BATCH; i++) {
            labels[i] = rng.nextInt(10);
            targets[i * 10 + labels[i]] = 0.7f;
            targets[i * 10 + (labels[i] + 3) % 10] = 0.3f;
        }
        TrainStep step = new TrainStep(m, TrainStepTest::flat, shards).microBatch(microBatch);
        assertEquals(Math.min(shards, BATCH), step.shards(BATCH));
        try (var buffers = BufferPool.open()) {
            TrainStep.Result r = step.run(x, labels, soft ? targets : null, 0.1f, 0.5f);
            lossOut[0] = r.loss();
            hitsOut[0] = r.correct();
        }
        Map<String, Tensor> params = m.namedParameters();
        for (Tensor p : params.values()) assertNotNull(p.grad, "every parameter gets a gradient");
        return params;
    }

    static void assertSameStep(int shards, boolean soft) {
        assertSameStep(shards, BATCH, soft);
    }

    static void assertSameStep(int shards, int microBatch, boolean soft) {
        float[] l1 = new float[1], l2 = new float[1];
        int[] h1 = new int[1], h2 = new int[1];
        Map<String, Tensor> whole = step(1, soft, l1, h1), split = step(shards, microBatch, soft, l2, h2);
        assertEquals(l1[0], l2[0], 1e-5 * Math.abs(l1[0]), "loss");
        assertEquals(h1[0], h2[0], "hits");
        double maxRel = 0;
        for (var e : whole.entrySet()) {
            float[] a = e.getValue().grad, b = split.get(e.getKey()).grad;
            double scale = 1e-6;
            for (float v : a) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < a.length; i++) {
                double rel = Math.abs(a[i] - b[i]) / scale;
                maxRel = Math.max(maxRel, rel);
                assertTrue(rel < 1e-4, e.getKey() + "[" + i + "]: whole batch " + a[i] + ", " + shards + " shards " + b[i]);
            }
        }
        assertTrue(maxRel > 0 || shards == 1 && microBatch >= BATCH, "the split step should differ at least in rounding; identical bits suggest it did not split");
    }

    @Test
    void dataParallelGradientsMatchTheWholeBatch() {
        assertSameStep(2, false);
        assertSameStep(3, true);
    }

    @Test
    void microBatchesGiveTheWholeBatchsGradient() {
        assertSameStep(1, 4, false); // 3 + 4 images
        assertSameStep(1, 3, true); // 2 + 2 + 3
        assertSameStep(2, 4, false); // micro-batches, each data-parallel
    }

    @Test
    void samePartsGiveTheSameBits() {
        float[] l1 = new float[1], l2 = new float[1];
        int[] h = new int[1];
        Map<String, Tensor> a = step(3, false, l1, h), b = step(3, false, l2, h);
        assertEquals(l1[0], l2[0]);
        for (var e : a.entrySet()) assertArrayEquals(e.getValue().grad, b.get(e.getKey()).grad, e.getKey());
    }

    @Test
    void aModelWithBatchNormStaysKernelParallel() {
        VisionModel bn = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(10));
        assertFalse(TrainStep.supportsDataParallel(bn));
        assertEquals(1, TrainStep.create(bn, () -> { throw new AssertionError("no replica for a BatchNorm model"); }, true).shards(32));
        assertThrows(IllegalArgumentException.class, () -> new TrainStep(bn, () -> bn, 2));
        assertTrue(TrainStep.supportsDataParallel(flat()));
    }
}
