package org.mambavision.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.Predictor;
import org.mambavision.spark.ml.TransformersTest;

class SparkPredictCommandTest {
    static int run(StringWriter err, String... args) {
        LocalSpark.session(); // the tests' session (the command's getOrCreate finds it)
        return SparkMain.run(new PrintWriter(err, true), args);
    }

    @Test
    void writesOneRowPerImageWithErrorsForUnreadableFiles(@TempDir Path dir) throws Exception {
        Path images = dir.resolve("in");
        TransformersTest.writeImages(images.resolve("nested"), 3);
        Path weights = TransformersTest.writeWeights(dir.resolve("w.safetensors"));
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        int code = run(err, "predict", "--master", "local[2]", "--weights", weights.toString(), "--input", images.toString(), "--output",
                out.toString(), "--format", "json", "--top", "2", "--features");
        assertEquals(1, code, "one file is not an image: " + err);
        List<Row> rows = LocalSpark.session().read().json(out.toString()).collectAsList();
        assertEquals(4, rows.size());
        Predictor p = Predictor.load(null, weights);
        int checked = 0;
        for (Row r : rows) {
            String path = r.getString(r.fieldIndex("path"));
            if (path.endsWith("broken.png")) {
                assertTrue(r.getString(r.fieldIndex("error")).contains("broken.png"), r.toString());
                assertTrue(r.isNullAt(r.fieldIndex("label")));
                continue;
            }
            Predictor.Prediction best = p.predict(Path.of(java.net.URI.create(path)), 1).get(0);
            assertEquals(best.index(), r.getLong(r.fieldIndex("index")), path);
            assertEquals(2, r.getList(r.fieldIndex("top")).size());
            assertEquals(p.features(Path.of(java.net.URI.create(path))).pooled().numel(),
                    r.getList(r.fieldIndex("features")).size());
            checked++;
        }
        assertEquals(3, checked);
        StringWriter again = new StringWriter();
        assertEquals(2, run(again, "predict", "--weights", weights.toString(), "--input", images.toString(), "--output", out.toString()));
        assertTrue(again.toString().contains("exists"), again.toString());
    }

    @Test
    void moreTrainingTasksThanLocalSlotsIsOneClearError(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        // the tests' session has 2 slots
        assertEquals(2, run(err, "train", "--workers", "3", "--set", "save_dir=" + dir, "--set", "epochs=1"));
        assertTrue(err.toString().contains("3 barrier tasks need 3 task slots"), err.toString());
        assertEquals(0, dir.toFile().list().length, "no run directory is left behind");
    }

    @Test
    void badArgumentsAreOneLineAndExitTwo(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "predict", "--weights", dir.resolve("missing.safetensors").toString(), "--input", dir.toString(),
                "--output", dir.resolve("o").toString()));
        assertTrue(err.toString().startsWith("error: ") && err.toString().contains("missing.safetensors"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        Path weights = TransformersTest.writeWeights(dir.resolve("w.safetensors"));
        StringWriter noImages = new StringWriter();
        assertEquals(2, run(noImages, "predict", "--weights", weights.toString(), "--input", dir.resolve("none").toString(), "--output",
                dir.resolve("o").toString()));
        assertTrue(noImages.toString().contains("--input"), noImages.toString());
    }
}
