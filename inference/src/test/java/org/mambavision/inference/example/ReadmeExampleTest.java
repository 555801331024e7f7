package org.mambavision.inference.example;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.PredictorTest;
import org.mambavision.models.ImageNetClasses;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.Weights;

/** The README's Java example is this module's ClassifyImages, verbatim; it compiles here and runs on real files. */
class ReadmeExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/org/mambavision/inference/example/ClassifyImages.java");

    @Test
    void theReadmeShowsTheExampleVerbatim() throws Exception {
        String source = Files.readString(SOURCE);
        String shown = source.substring(source.indexOf("import "));
        String readme = Files.readString(Path.of("..", "README.md"));
        assertTrue(readme.contains("```java\n" + shown + "```"), "README.md's Java example differs from " + SOURCE + "; copy the file from its imports on");
    }

    @Test
    void theExampleRuns(@TempDir Path dir) throws Exception {
        Path weights = dir.resolve("weights.safetensors");
        Weights.save(ModelRegistry.create("mambavision_mini"), weights, Map.of());
        Path a = dir.resolve("a.png"), b = dir.resolve("b.jpg");
        ImageIO.write(PredictorTest.picture(3, 80, 60), "png", a.toFile());
        ImageIO.write(PredictorTest.picture(9, 40, 90), "jpg", b.toFile());
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            ClassifyImages.main(new String[] {"mambavision_mini", weights.toString(), a.toString(), b.toString()});
        } finally {
            System.setOut(saved);
        }
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, lines.length, out.toString(StandardCharsets.UTF_8));
        for (int i = 0; i < 2; i++) {
            String line = lines[i];
            assertTrue(line.startsWith((i == 0 ? a : b) + ": "), line);
            String label = line.substring(line.indexOf(": ") + 2, line.lastIndexOf(" (class "));
            assertTrue(ImageNetClasses.names().contains(label), label);
        }
        assertEquals("pooled features: 256 values", lines[2]);
    }
}
