package org.mambavision.inference;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;

public class PredictorTest {
    public static BufferedImage picture(int seed, int w, int h) {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, ((x * seed) & 255) << 16 | ((y * 3 + seed * 11) & 255) << 8 | (x ^ y) & 255);
        return bi;
    }

    static VisionModel mini() {
        return ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(7));
    }

    @Test
    void aBatchGivesEachImageItsOwnResult() {
        Predictor p = new Predictor(mini(), ModelCheckpoint.indexNames(7));
        List<BufferedImage> images = List.of(picture(1, 40, 30), picture(5, 64, 64), picture(9, 33, 71));
        int per = p.preprocess(images.get(0)).numel();
        float[] data = new float[images.size() * per];
        for (int i = 0; i < images.size(); i++) System.arraycopy(p.preprocess(images.get(i)).data, 0, data, i * per, per);
        int s = p.preprocessing().size();
        List<List<Predictor.Prediction>> batch = p.classifyBatch(org.mambavision.engine.Tensor.of(data, images.size(), 3, s, s), 3);
        assertEquals(images.size(), batch.size());
        for (int i = 0; i < images.size(); i++) {
            List<Predictor.Prediction> one = p.predict(images.get(i), 3);
            for (int k = 0; k < 3; k++) {
                assertEquals(one.get(k).index(), batch.get(i).get(k).index(), "image " + i + " rank " + k);
                assertEquals(one.get(k).probability(), batch.get(i).get(k).probability(), 1e-5f, "image " + i + " rank " + k);
            }
        }
        assertNotEquals(batch.get(0).get(0).probability(), batch.get(1).get(0).probability(), "distinct images, distinct results");
    }

    @Test
    void oneSharedPredictorGivesTheSequentialResultsOnEightThreads() throws Exception {
        Predictor p = new Predictor(mini(), ModelCheckpoint.indexNames(7));
        int n = 16;
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < n; i++) images.add(picture(i + 1, 50 + 3 * i, 70 - i));
        List<List<Predictor.Prediction>> sequential = new ArrayList<>();
        for (BufferedImage img : images) sequential.add(p.predict(img, 7));
        // not all the same answer, so a mix-up between threads would show
        assertTrue(sequential.stream().map(l -> l.get(0).probability()).distinct().count() > 1);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 3; round++) {
                        for (int k = 0; k < n; k++) {
                            int i = (k + offset * 5 + round) % n;
                            if (!p.predict(images.get(i), 7).equals(sequential.get(i))) return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get(), "a concurrent prediction differed from the sequential one");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void officialWeightsUseTheOfficialPreprocessing(@TempDir Path dir) throws Exception {
        VisionModel m = ModelRegistry.create("mambavision_mini");   // official weights: 1000 ImageNet classes
        Path w = dir.resolve("w.safetensors");
        Weights.save(m, w, Map.of());
        Predictor p = Predictor.load("mambavision_mini", w);
        assertEquals(EvalPreprocessing.official(m), p.preprocessing());
        assertArrayEquals(new int[] {1, 3, 64, 64}, p.preprocess(picture(3, 90, 64)).shape());
        // the same tensor the preprocessing gives directly, and the loaded model's answer
        assertArrayEquals(EvalPreprocessing.official(64, 1.0f).apply(picture(3, 90, 64)), p.preprocess(picture(3, 90, 64)).data);
        IllegalArgumentException noModel = assertThrows(IllegalArgumentException.class, () -> Predictor.load(null, w));
        assertTrue(noModel.getMessage().contains("--model is required"), noModel.getMessage());
        java.io.IOException d = assertThrows(java.io.IOException.class, () -> Predictor.load("mambavision_mini", dir));
        assertTrue(d.getMessage().startsWith(dir + ": is a directory, not a weights file"), d.getMessage());
    }

    @Test
    void preprocessingRoundTripsThroughMetadata() {
        EvalPreprocessing e = new EvalPreprocessing(1, 28, 0, org.mambavision.inference.image.Resample.Filter.BILINEAR,
                new float[] {0.286f}, new float[] {0.353f});
        assertEquals(e, EvalPreprocessing.fromMetadata(e.toMetadata(), "f"));
        assertNull(EvalPreprocessing.fromMetadata(Map.of(), "f"));
        Map<String, String> bad = new java.util.HashMap<>(e.toMetadata());
        bad.put("preprocess.interpolation", "lanczos9");
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> EvalPreprocessing.fromMetadata(bad, "f.safetensors"));
        assertTrue(x.getMessage().startsWith("f.safetensors: bad preprocessing metadata"), x.getMessage());
    }

    @Test
    void theInferenceModuleDoesNotPullInTrainingLibraries() {
        // YAML, plotting and progress bars belong to the training module; a service that only predicts must not get them
        for (String cls : List.of("org.snakeyaml.engine.v2.api.Load", "org.knowm.xchart.XYChart", "me.tongfei.progressbar.ProgressBar",
                "org.mambavision.training.Trainer", "org.apache.pdfbox.pdmodel.PDDocument")) {
            assertThrows(ClassNotFoundException.class, () -> Class.forName(cls), cls + " is on the inference module's class path");
        }
    }
}
