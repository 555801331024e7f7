package org.mambavision.training.data;

import org.mambavision.inference.image.Image;
import org.mambavision.inference.image.Resize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.image.Normalize;
import org.mambavision.training.data.transforms.RandAugment;
import org.mambavision.training.data.transforms.RandomErasing;
import org.mambavision.training.data.transforms.RandomHorizontalFlip;
import org.mambavision.training.data.transforms.RandomResizedCrop;
import org.mambavision.inference.image.Transform;

class LoaderTest {
    static final Transform AUGMENT = Transform.compose(new RandomResizedCrop(12), new RandomHorizontalFlip(0.5),
            RandAugment.parse("rand-m9-mstd0.5-inc1"), Normalize.imagenet(), new RandomErasing(0.25));

    static List<DataLoader.Batch> epoch(int workers, int epoch, MixupCutmix mix) {
        Dataset d = new SyntheticDataset(37, 4, 16, 3, 3, 0.1f);
        try (DataLoader l = DataLoader.builder(d).transform(AUGMENT).batchSize(8).numWorkers(workers).prefetch(3).seed(11).mixup(mix).build()) {
            List<DataLoader.Batch> out = new ArrayList<>();
            for (DataLoader.Batch b : l.epoch(epoch)) out.add(b);
            return out;
        }
    }

    @Test
    void identicalBatchesForAnyWorkerCount() {
        MixupCutmix mix = new MixupCutmix(0.8, 1.0, 1.0, 0.5, 0.1, 4);
        List<DataLoader.Batch> a = epoch(1, 2, mix), b = epoch(3, 2, mix), c = epoch(0, 2, mix);
        assertEquals(5, a.size());
        for (int i = 0; i < a.size(); i++) {
            for (List<DataLoader.Batch> other : List.of(b, c)) {
                assertArrayEquals(a.get(i).images().data, other.get(i).images().data, "batch " + i);
                assertArrayEquals(a.get(i).labels(), other.get(i).labels());
                assertArrayEquals(a.get(i).softTargets(), other.get(i).softTargets());
                assertArrayEquals(a.get(i).indices(), other.get(i).indices());
            }
        }
        assertArrayEquals(new int[] {8, 3, 12, 12}, a.get(0).images().shape());
        assertEquals(5, a.get(4).size()); // 37 = 4 * 8 + 5, last batch kept
        assertTrue(!Arrays.equals(a.get(0).indices(), epoch(1, 3, mix).get(0).indices()), "epochs shuffle differently");
    }

    @Test
    void everySampleOnceDropLastAndNoShuffle() {
        Dataset d = new FakeDataset(23, 3, 4, 1, 0);
        try (DataLoader l = DataLoader.builder(d).batchSize(5).dropLast(true).numWorkers(2).seed(1).build()) {
            assertEquals(4, l.batchesPerEpoch());
            Set<Integer> seen = new HashSet<>();
            for (DataLoader.Batch b : l.epoch(0)) {
                assertEquals(5, b.size());
                assertNull(b.softTargets());
                for (int i = 0; i < b.size(); i++) {
                    assertTrue(seen.add(b.indices()[i]));
                    assertEquals(d.get(b.indices()[i]).label(), b.labels()[i]);
                }
            }
            assertEquals(20, seen.size());
        }
        try (DataLoader l = DataLoader.builder(d).batchSize(10).shuffle(false).build()) {
            List<DataLoader.Batch> bs = new ArrayList<>();
            l.epoch(0).forEachRemaining(bs::add);
            assertEquals(3, bs.size());
            assertArrayEquals(new int[] {20, 21, 22}, bs.get(2).indices());
            assertArrayEquals(d.get(20).chw(), Arrays.copyOfRange(bs.get(2).images().data, 0, 16), 0f);
        }
    }

    @Test
    void workerFailureSurfacesWithDatasetName() {
        Dataset base = new FakeDataset(30, 2, 4, 1, 0);
        Dataset failing = new Dataset() {
            @Override public String name() { return "flaky-set"; }
            @Override public int size() { return base.size(); }
            @Override public int numClasses() { return base.numClasses(); }
            @Override public List<String> classNames() { return base.classNames(); }

            @Override public Sample get(int index) {
                if (index == 17) throw new IllegalStateException("disk on fire");
                return base.get(index);
            }
        };
        try (DataLoader l = DataLoader.builder(failing).batchSize(4).shuffle(false).numWorkers(2).build()) {
            DataLoader.Epoch e = l.epoch(0);
            RuntimeException ex = assertThrows(RuntimeException.class, () -> {
                while (e.hasNext()) e.next();
            });
            assertTrue(ex.getMessage().contains("flaky-set") && ex.getMessage().contains("disk on fire") && ex.getMessage().contains("batch 4"), ex.getMessage());
        }
    }

    @Test
    void mixedShapesAreAClearError() {
        Dataset d = new FakeDataset(4, 2, 4, 1, 0);
        Transform odd = (img, rng) -> rng.nextBoolean() ? img : Image.zeros(1, 3, 3);
        try (DataLoader l = DataLoader.builder(d).transform(odd).batchSize(4).build()) {
            RuntimeException ex = assertThrows(RuntimeException.class, () -> l.epoch(0).next());
            assertTrue(ex.getMessage().contains("fake") && ex.getMessage().contains("Resize"), ex.getMessage());
        }
    }

    @Test
    void mixupTargetsSumToOneAndMatchLambda() {
        int n = 6, c = 2, h = 8, w = 8, k = 5;
        MixupCutmix mix = new MixupCutmix(0.8, 1.0, 1.0, 0.5, 0.1, k);
        int[] labels = {0, 1, 2, 3, 4, 0};
        SplittableRandom rng = new SplittableRandom(5);
        int sawCutmix = 0, sawMixup = 0;
        for (int trial = 0; trial < 40; trial++) {
            float[] x = new float[n * c * h * w];
            for (int i = 0; i < n; i++) Arrays.fill(x, i * c * h * w, (i + 1) * c * h * w, i); // sample i is constant i
            MixupCutmix.Params[] p = new MixupCutmix.Params[1];
            float[] t = mix.apply(x, n, c, h, w, labels, rng, p);
            double lam = p[0].lam();
            for (int i = 0; i < n; i++) {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += t[i * k + j];
                assertEquals(1.0, sum, 1e-5);
                // The mean pixel of mixed sample i is lam * i + (1 - lam) * (n - 1 - i), for mixup and cutmix alike.
                double mean = 0;
                for (int j = 0; j < c * h * w; j++) mean += x[i * c * h * w + j];
                assertEquals(lam * i + (1 - lam) * (n - 1 - i), mean / (c * h * w), 1e-4, "trial " + trial + " sample " + i);
            }
            // Sample 0 (label 0) mixed with sample 5 (label 0): all mass on class 0 apart from smoothing.
            assertEquals(1 - 0.1 + 0.1 / k, t[0], 1e-6);
            // Sample 1 (label 1) with sample 4 (label 4).
            assertEquals(lam * (0.9 + 0.02) + (1 - lam) * 0.02, t[k + 1], 1e-5);
            if (p[0].cutmix()) sawCutmix++;
            else sawMixup++;
        }
        assertTrue(sawCutmix > 5 && sawMixup > 5, sawCutmix + " cutmix, " + sawMixup + " mixup");
        float[] plain = MixupCutmix.mixTargets(new int[] {2}, 4, 1.0, 0.0);
        assertArrayEquals(new float[] {0, 0, 1, 0}, plain);
    }

    @Test
    void betaSamplerHasTheRightMean() {
        SplittableRandom r = new SplittableRandom(1);
        double sum = 0;
        for (int i = 0; i < 20000; i++) sum += Rng.beta(r, 0.8, 0.8);
        assertEquals(0.5, sum / 20000, 0.01);
        double s2 = 0;
        for (int i = 0; i < 20000; i++) s2 += Rng.beta(r, 2, 6);
        assertEquals(0.25, s2 / 20000, 0.01);
        assertNotNull(Rng.of(1, 2, 3));
    }
}
