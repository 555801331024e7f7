package org.mambavision.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.image.Image;
import org.mambavision.inference.image.Resample;
import org.mambavision.inference.image.Transform;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.Dataset;

class TrainingDataTest {
    private static final float[] NO_SHIFT = {0, 0, 0}, NO_SCALE = {1, 1, 1};

    private static Image randomImage(int h, int w) {
        SplittableRandom r = new SplittableRandom(h * 31L + w);
        float[] d = new float[3 * h * w];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextDouble();
        return new Image(d, 3, h, w);
    }

    private static Set<Float> values(Image img) {
        Set<Float> s = new HashSet<>();
        for (float v : img.data()) s.add(v);
        return s;
    }

    /**
     * Every resize of the training and validation transforms uses the {@code interpolation} key: with nearest, every
     * output value is one of the input values (nothing blended); each filter gives a different image.
     */
    @Test
    void interpolationReachesEveryResize() {
        Image src = randomImage(13, 11);
        for (String dataset : new String[] {"imagefolder", "cifar10"}) { // RandomResizedCrop + Resize/CenterCrop; Resize(h, w)
            for (boolean train : new boolean[] {true, false}) {
                List<float[]> outputs = new ArrayList<>();
                for (Resample.Filter f : Resample.Filter.values()) {
                    TrainConfig c = ConfigLoader.load(null, List.of("dataset=" + dataset, "data_dir=unused", "img_size=8", "hflip=0",
                            "interpolation=" + f.name().toLowerCase(Locale.ROOT)));
                    assertEquals(f, TrainingData.filter(c));
                    EvalPreprocessing e = TrainingData.evalPreprocessing(c); // the run's, without its normalisation
                    Transform t = train ? TrainingData.trainTransform(c, NO_SHIFT, NO_SCALE)
                            : new EvalPreprocessing(e.channels(), e.size(), e.cropPct(), e.filter(), NO_SHIFT, NO_SCALE).transform();
                    Image out = t.apply(src.copy(), new SplittableRandom(5));
                    assertEquals(8, out.height());
                    String what = dataset + (train ? " train" : " eval") + " transform, " + f;
                    boolean copied = values(src).containsAll(values(out));
                    if (f == Resample.Filter.NEAREST) assertTrue(copied, what + ": nearest must copy input values");
                    else assertFalse(copied, what + ": a blending filter must make new values");
                    outputs.add(out.data());
                }
                for (int i = 0; i < outputs.size(); i++) {
                    for (int j = i + 1; j < outputs.size(); j++) assertFalse(Arrays.equals(outputs.get(i), outputs.get(j)), dataset + " filters " + i + ", " + j);
                }
            }
        }
    }

    /** {@link TrainingData#validationSet} (what eval uses) is exactly the validation set training used. */
    @Test
    void validationSetIsTheOneTrainingUses() {
        TrainConfig c = ConfigLoader.load(null, List.of("dataset_size=40", "img_size=8", "train_split=0.75", "seed=3", "num_workers=0"));
        Dataset val = TrainingData.validationSet(c);
        try (TrainingData data = TrainingData.create(c, 4, s -> {})) {
            assertEquals(10, val.size());
            assertEquals(data.val.size(), val.size());
            for (int i = 0; i < val.size(); i++) assertEquals(data.val.get(i), val.get(i), "sample " + i);
        }
        TrainConfig other = c.copy().set("seed", 4, "test");
        assertNotEquals(TrainingData.validationSet(other).get(0), val.get(0), "the split follows the seed");
    }
}
