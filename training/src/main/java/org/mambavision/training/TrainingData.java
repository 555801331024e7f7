package org.mambavision.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.mambavision.inference.EvalPreprocessing;
import org.mambavision.inference.image.Normalize;
import org.mambavision.inference.image.Resample;
import org.mambavision.inference.image.Resize;
import org.mambavision.inference.image.Transform;
import org.mambavision.training.config.TrainConfig;
import org.mambavision.training.data.DataLoader;
import org.mambavision.training.data.DataOptions;
import org.mambavision.training.data.Dataset;
import org.mambavision.training.data.Datasets;
import org.mambavision.training.data.MixupCutmix;
import org.mambavision.training.data.Split;
import org.mambavision.training.data.Splits;
import org.mambavision.training.data.Subset;
import org.mambavision.training.data.transforms.ColorJitter;
import org.mambavision.training.data.transforms.RandAugment;
import org.mambavision.training.data.transforms.RandomErasing;
import org.mambavision.training.data.transforms.RandomHorizontalFlip;
import org.mambavision.training.data.transforms.RandomResizedCrop;
import org.mambavision.training.data.transforms.RandomRotation;

/**
 * Datasets, transforms and loaders for a run, from its config.
 *
 * <p>Validation: for datasets with an official test split (fashion-mnist, cifar) the test split is the
 * validation set and the whole train split trains; otherwise the data is split by {@code train_split}
 * with the run's seed. {@code dataset_size} caps the number of training samples (0 or more than
 * available: all).
 */
public final class TrainingData implements AutoCloseable {
    public final Dataset train, val;
    public final DataLoader trainLoader, valLoader;
    public final float[] mean, std;
    public final List<String> classNames;

    private TrainingData(Dataset train, Dataset val, DataLoader trainLoader, DataLoader valLoader, float[] mean, float[] std) {
        this.train = train;
        this.val = val;
        this.trainLoader = trainLoader;
        this.valLoader = valLoader;
        this.mean = mean;
        this.std = std;
        this.classNames = train.classNames();
    }

    /** Whether the dataset has an official test split, which then is the validation set. */
    public static boolean hasTestSplit(String dataset) {
        return dataset.equals("fashion-mnist") || dataset.startsWith("cifar");
    }

    /** The run's validation set (without transforms): the test split, or the seeded {@code train_split} remainder. */
    public static Dataset validationSet(TrainConfig c) {
        if (hasTestSplit(c.dataset)) return Datasets.create(c.dataset, options(c).withTrain(false));
        return trainValSplit(c).val();
    }

    private static Split trainValSplit(TrainConfig c) {
        return Splits.trainVal(Datasets.create(c.dataset, options(c)), c.trainSplit, c.seed);
    }

    public static TrainingData create(TrainConfig c, int batchSize, Consumer<String> log) {
        return create(c, batchSize, batchSize, log);
    }

    /** As {@link #create(TrainConfig, int, Consumer)}, validating in batches of {@code valBatchSize}. */
    public static TrainingData create(TrainConfig c, int batchSize, int valBatchSize, Consumer<String> log) {
        return create(c, batchSize, valBatchSize, 0, 1, log);
    }

    /**
     * As {@link #create(TrainConfig, int, int, Consumer)} for process {@code shard} of {@code shards} of a data-parallel run:
     * the training loader builds only its shard of each batch, the validation loader covers only its part of the validation set.
     */
    public static TrainingData create(TrainConfig c, int batchSize, int valBatchSize, int shard, int shards, Consumer<String> log) {
        DataOptions base = options(c);
        Dataset train, val;
        if (hasTestSplit(c.dataset)) {
            train = Datasets.create(c.dataset, options(c));
            val = validationSet(c);
            if (c.datasetSize > 0 && c.datasetSize < train.size()) train = Splits.random(train, c.datasetSize, c.seed);
        } else {
            Split s = trainValSplit(c);
            train = s.train();
            val = s.val();
        }
        if (train.size() == 0) throw new IllegalArgumentException("dataset '" + c.dataset + "' has no training samples");
        float[][] ms = normalization(c.dataset, c.inChans);
        Transform trainT = trainTransform(c, ms[0], ms[1]);
        Transform evalT = evalTransform(c);
        MixupCutmix mix = (c.mixup > 0 || c.cutmix > 0)
                ? new MixupCutmix(c.mixup, c.cutmix, c.mixupProb, c.mixupSwitchProb, c.labelSmoothing, train.numClasses()) : null;
        DataLoader tl = DataLoader.builder(train).transform(trainT).batchSize(batchSize).shuffle(true).dropLast(train.size() >= batchSize)
                .numWorkers(c.numWorkers).prefetch(Math.max(2, c.numWorkers)).seed(c.seed).mixup(mix).shard(shard, shards).build();
        // a data-parallel process evaluates its part of the validation set (the trainer combines the parts' sums)
        Dataset valPart = shards == 1 ? val : new Subset(val, java.util.stream.IntStream.range((int) ((long) val.size() * shard / shards),
                (int) ((long) val.size() * (shard + 1) / shards)).toArray());
        DataLoader vl = DataLoader.builder(valPart).transform(evalT).batchSize(valBatchSize).shuffle(false).dropLast(false)
                .numWorkers(c.numWorkers).prefetch(Math.max(2, c.numWorkers)).seed(c.seed).build();
        return new TrainingData(train, val, tl, vl, ms[0], ms[1]);
    }

    /** The training split's options; generated datasets get num_classes, or {@link TrainConfig#GENERATED_CLASSES} when unset. */
    private static DataOptions options(TrainConfig c) {
        return new DataOptions(c.dataDir == null ? null : Path.of(c.dataDir), true, imageSizeFor(c), c.inChans,
                Math.max(c.datasetSize, 1), c.numClasses != null ? c.numClasses : TrainConfig.GENERATED_CLASSES, c.seed, true, c.maxImagePixels);
    }

    /** num_classes when set, else the dataset's class count (read without loading the data). */
    public static int numClasses(TrainConfig c) {
        return c.numClasses != null ? c.numClasses : Datasets.numClasses(c.dataset, options(c));
    }

    /**
     * Generated datasets are made at img_size; files are read at their native size, so that the transforms resize
     * them with the configured {@code interpolation}.
     */
    private static int imageSizeFor(TrainConfig c) {
        return c.dataset.equals("synthetic") || c.dataset.equals("fake") ? c.imgSize : 0;
    }

    /** Per-dataset channel statistics (ImageNet's for RGB folders and generated data). */
    public static float[][] normalization(String dataset, int channels) {
        float[] mean, std;
        switch (dataset) {
            case "fashion-mnist" -> {
                mean = new float[] {0.2860f};
                std = new float[] {0.3530f};
            }
            case "cifar10", "cifar100" -> {
                mean = new float[] {0.4914f, 0.4822f, 0.4465f};
                std = new float[] {0.2470f, 0.2435f, 0.2616f};
            }
            default -> {
                mean = Normalize.IMAGENET_MEAN;
                std = Normalize.IMAGENET_STD;
            }
        }
        float[] m = new float[channels], s = new float[channels];
        for (int i = 0; i < channels; i++) {
            m[i] = channels == mean.length ? mean[i] : average(mean);
            s[i] = channels == std.length ? std[i] : average(std);
        }
        return new float[][] {m, s};
    }

    private static float average(float[] v) {
        float s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    /** The {@code interpolation} key's filter; every resize of the training and validation transforms uses it. */
    static Resample.Filter filter(TrainConfig c) {
        return Resample.Filter.valueOf(c.interpolation.toUpperCase(Locale.ROOT));
    }

    static Transform trainTransform(TrainConfig c, float[] mean, float[] std) {
        List<Transform> t = new ArrayList<>();
        if (!c.augment) return evalTransform(c);
        if (c.dataset.equals("imagefolder")) {
            t.add(new RandomResizedCrop(c.imgSize, 0.08, 1.0, 3.0 / 4, 4.0 / 3, filter(c)));
        } else {
            t.add(new Resize(c.imgSize, c.imgSize, filter(c)));
        }
        if (c.hflip > 0) t.add(new RandomHorizontalFlip(c.hflip));
        if (c.rotation > 0) t.add(new RandomRotation(c.rotation));
        if (c.randaugment != null && !c.randaugment.isBlank()) t.add(RandAugment.parse(c.randaugment));
        else if (c.colorJitter > 0) t.add(ColorJitter.of(c.colorJitter));
        t.add(new Normalize(mean, std));
        if (c.randomErasing > 0) t.add(new RandomErasing(c.randomErasing, RandomErasing.Mode.PIXEL));
        return Transform.compose(t);
    }

    /**
     * The run's evaluation preprocessing: image folders as timm evaluates (shorter side to img_size / 0.875, center
     * crop), generated datasets resized to img_size; the dataset's statistics. Stored in checkpoints for prediction.
     */
    public static EvalPreprocessing evalPreprocessing(TrainConfig c) {
        float[][] ms = normalization(c.dataset, c.inChans);
        return new EvalPreprocessing(c.inChans, c.imgSize, c.dataset.equals("imagefolder") ? 0.875 : 0, filter(c), ms[0], ms[1]);
    }

    static Transform evalTransform(TrainConfig c) {
        return evalPreprocessing(c).transform();
    }

    @Override
    public void close() {
        trainLoader.close();
        valLoader.close();
    }
}
