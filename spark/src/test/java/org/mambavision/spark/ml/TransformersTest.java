package org.mambavision.spark.ml;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.ModelCheckpoint;
import org.mambavision.inference.Predictor;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;
import org.mambavision.models.Weights;
import org.mambavision.spark.LocalSpark;

/** The transformers against {@link Predictor} on the same files, through both of Spark's image readers. */
public class TransformersTest {
    @TempDir
    static Path dir;
    static Path images, weights;
    static SparkSession spark;
    static final int IMAGES = 5;

    /** A picture with a pattern of its own, so that the images get different results. */
    static BufferedImage picture(int seed, int w, int h) {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, ((x * seed) & 255) << 16 | ((y * 3 + seed * 11) & 255) << 8 | (x ^ y) & 255);
        return bi;
    }

    /** {@code n} PNG images and one file that is not an image, in {@code folder}. */
    public static void writeImages(Path folder, int n) throws Exception {
        Files.createDirectories(folder);
        for (int i = 0; i < n; i++) ImageIO.write(picture(i + 2, 40 + 7 * i, 36 + 3 * i), "png", folder.resolve("img" + i + ".png").toFile());
        Files.writeString(folder.resolve("broken.png"), "not an image");
    }

    /** A mambavision_mini with 7 classes and random weights, as a file that names its model. */
    public static Path writeWeights(Path file) throws Exception {
        VisionModel m = ModelRegistry.create("mambavision_mini", ModelOptions.defaults().withClasses(7));
        Weights.save(m, file, Map.of(ModelCheckpoint.MODEL, "mambavision_mini", "num_classes", "7"));
        return file;
    }

    @BeforeAll
    static void setUp() throws Exception {
        images = dir.resolve("images");
        writeImages(images, IMAGES);
        weights = writeWeights(dir.resolve("mini.safetensors"));
        spark = LocalSpark.session();
    }

    static Dataset<Row> binaryFiles() {
        return spark.read().format("binaryFile").load(images.toString());
    }

    static Map<String, Row> byName(Dataset<Row> out, String nameCol) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : out.collectAsList()) {
            String path = nameCol.equals("image") ? r.getStruct(r.fieldIndex("image")).getString(0) : r.getString(r.fieldIndex(nameCol));
            m.put(Path.of(java.net.URI.create(path)).getFileName().toString(), r);
        }
        return m;
    }

    static void assertSamePredictions(Map<String, Row> rows, Predictor p, int k) throws Exception {
        for (int i = 0; i < IMAGES; i++) {
            String name = "img" + i + ".png";
            Row r = rows.get(name);
            assertNotNull(r, name + " missing from " + rows.keySet());
            assertTrue(r.isNullAt(r.fieldIndex("error")), name + ": " + r);
            List<Predictor.Prediction> expected = p.predict(images.resolve(name), k);
            List<Row> top = r.getList(r.fieldIndex("top"));
            assertEquals(k, top.size());
            for (int j = 0; j < k; j++) {
                assertEquals(expected.get(j).index(), top.get(j).getInt(0), name + " rank " + j);
                assertEquals(expected.get(j).label(), top.get(j).getString(1), name + " rank " + j);
                assertEquals(expected.get(j).probability(), top.get(j).getDouble(2), 1e-5, name + " rank " + j);
            }
            assertEquals(expected.get(0).label(), r.getString(r.fieldIndex("label")));
            assertEquals(expected.get(0).index(), r.getInt(r.fieldIndex("index")));
            assertEquals(expected.get(0).probability(), r.getDouble(r.fieldIndex("probability")), 1e-5);
        }
    }

    @Test
    void classifierOnImageRowsMatchesThePredictor() throws Exception {
        Dataset<Row> in = spark.read().format("image").option("dropInvalid", "true").load(images.toString());
        Dataset<Row> out = new MambaVisionClassifier().setWeights(weights.toString()).setTopK(3).setBatchSize(2).transform(in);
        Map<String, Row> rows = byName(out, "image");
        assertEquals(IMAGES, rows.size(), "dropInvalid leaves the images: " + rows.keySet());
        Predictor p = Predictor.load(null, weights);
        assertSamePredictions(rows, p, 3);
        assertNotEquals(rows.get("img0.png").getDouble(rows.get("img0.png").fieldIndex("probability")),
                rows.get("img1.png").getDouble(rows.get("img1.png").fieldIndex("probability")), "distinct images, distinct results");
    }

    @Test
    void classifierOnFileBytesMatchesThePredictorAndABadFileGetsAnError() throws Exception {
        Dataset<Row> out = new MambaVisionClassifier().setInputCol("content").setModelName("mambavision_mini").setWeights(weights.toString())
                .setTopK(2).setBatchSize(4).transform(binaryFiles());
        Map<String, Row> rows = byName(out, "path");
        assertEquals(IMAGES + 1, rows.size());
        assertSamePredictions(rows, Predictor.load(null, weights), 2);
        Row bad = rows.get("broken.png");
        String error = bad.getString(bad.fieldIndex("error"));
        assertNotNull(error, bad.toString());
        assertTrue(error.contains("broken.png"), error);
        for (String c : List.of("label", "index", "probability", "top")) assertTrue(bad.isNullAt(bad.fieldIndex(c)), c + " of the bad row: " + bad);
    }

    @Test
    void aPixelLimitRefusesLargerImagesRowByRow() {
        Dataset<Row> out = new MambaVisionClassifier().setInputCol("content").setWeights(weights.toString()).setMaxImagePixels(45 * 40)
                .transform(binaryFiles());
        Map<String, Row> rows = byName(out, "path");
        Row small = rows.get("img0.png"), large = rows.get("img2.png"); // 40x36 and 54x42
        assertTrue(small.isNullAt(small.fieldIndex("error")), small.toString());
        assertTrue(large.getString(large.fieldIndex("error")).contains("above the limit"), large.toString());
    }

    @Test
    void featurizerMatchesThePredictorsPooledFeatures() throws Exception {
        Dataset<Row> out = new MambaVisionFeaturizer().setInputCol("content").setWeights(weights.toString()).transform(binaryFiles());
        Map<String, Row> rows = byName(out, "path");
        Predictor p = Predictor.load(null, weights);
        float[] expected = p.features(images.resolve("img1.png")).pooled().data;
        Vector v = (Vector) rows.get("img1.png").get(rows.get("img1.png").fieldIndex("features"));
        assertEquals(expected.length, v.size());
        for (int j = 0; j < expected.length; j++) assertEquals(expected[j], v.apply(j), 1e-5, "feature " + j);
        assertTrue(rows.get("broken.png").isNullAt(rows.get("broken.png").fieldIndex("features")));
    }

    @Test
    void theClassifierCanAddTheFeaturesOfTheSameForwardPass() throws Exception {
        Dataset<Row> out = new MambaVisionClassifier().setInputCol("content").setWeights(weights.toString()).setTopK(3)
                .setFeaturesCol("embedding").transform(binaryFiles());
        Map<String, Row> rows = byName(out, "path");
        assertSamePredictions(rows, Predictor.load(null, weights), 3);
        Map<String, Row> alone = byName(new MambaVisionFeaturizer().setInputCol("content").setWeights(weights.toString()).transform(binaryFiles()), "path");
        Vector a = (Vector) rows.get("img3.png").get(rows.get("img3.png").fieldIndex("embedding"));
        Vector b = (Vector) alone.get("img3.png").get(alone.get("img3.png").fieldIndex("features"));
        assertEquals(b.size(), a.size());
        for (int j = 0; j < a.size(); j++) assertEquals(b.apply(j), a.apply(j), 1e-5, "feature " + j);
        assertTrue(rows.get("broken.png").isNullAt(rows.get("broken.png").fieldIndex("embedding")));
    }

    @Test
    void stagesSaveAndLoadAsAPipeline() throws Exception {
        MambaVisionClassifier c = new MambaVisionClassifier().setInputCol("content").setWeights(weights.toString()).setTopK(4).setBatchSize(3)
                .setKernelThreads(2).setMaxImagePixels(12345678L);
        MambaVisionFeaturizer f = new MambaVisionFeaturizer().setInputCol("content").setWeights(weights.toString()).setStage(3).setErrorCol("featureError");
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {c, f}).fit(binaryFiles().limit(1));
        Path saved = dir.resolve("pipeline");
        model.save(saved.toString());
        PipelineModel loaded = PipelineModel.load(saved.toString());
        MambaVisionClassifier c2 = (MambaVisionClassifier) loaded.stages()[0];
        MambaVisionFeaturizer f2 = (MambaVisionFeaturizer) loaded.stages()[1];
        assertEquals(c.uid(), c2.uid());
        assertEquals(List.of("content", weights.toString(), 4, 3, 2, 12345678L),
                List.of(c2.getInputCol(), c2.getWeights(), c2.getTopK(), c2.getBatchSize(), c2.getKernelThreads(), c2.getMaxImagePixels()));
        assertEquals(List.of(3, "featureError"), List.of(f2.getStage(), f2.getErrorCol()));
        MambaVisionClassifier alone = MambaVisionClassifier.load(saveStage(c2, dir.resolve("classifier")));
        assertEquals(4, alone.getTopK());
    }

    private static String saveStage(MambaVisionClassifier c, Path where) throws Exception {
        c.save(where.toString());
        return where.toString();
    }

    @Test
    void aMissingColumnOrAnOutputNameClashIsOneClearError() {
        MambaVisionClassifier c = new MambaVisionClassifier().setWeights(weights.toString());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> c.transform(binaryFiles()));
        assertTrue(missing.getMessage().contains("'image' not found"), missing.getMessage());
        Dataset<Row> withLabel = binaryFiles().withColumn("label", org.apache.spark.sql.functions.lit("x"));
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class, () -> c.setInputCol("content").transform(withLabel));
        assertTrue(clash.getMessage().contains("'label'"), clash.getMessage());
    }
}
