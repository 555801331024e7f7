package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.ModelSpec;
import org.mambavision.models.VisionModel;
import org.mambavision.training.checkpoint.TrainCheckpoint;

/** Folders, globs, CSV/JSONL output, unreadable images, and a --model that contradicts our checkpoint. */
class PredictCommandTest {
    @TempDir
    static Path dir;
    static Path ckpt, imgs;
    static final List<String> CLASSES = List.of("airplane, jet", "car", "bird \"tweety\"", "cat");

    record Out(int code, String out, String err) {}

    static Out run(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream bout = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(bout, true));
        int code;
        try {
            code = Main.run(new PrintWriter(err, true), args);
        } finally {
            System.setOut(old);
        }
        return new Out(code, bout.toString(), err.toString());
    }

    static void image(Path file, String format, int shade) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage b = new BufferedImage(20, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) for (int x = 0; x < 20; x++) b.setRGB(x, y, (x * 12) << 16 | (y * 10) << 8 | shade);
        assertTrue(ImageIO.write(b, format, file.toFile()));
    }

    /** A flat_tiny checkpoint of ours (4 classes, 32 px; untrained weights suffice) and a folder of images. */
    @BeforeAll
    static void setUp() throws IOException {
        ModelSpec spec = new ModelSpec("flat_tiny", 3, CLASSES.size(), 32, null, null, null, null, null, null);
        VisionModel m = spec.create(7);
        ckpt = dir.resolve("best.safetensors");
        TrainCheckpoint.save(ckpt, new TrainCheckpoint.State(spec, m.stateDict(), Map.of(), null, CLASSES, Map.of(), null));
        imgs = dir.resolve("imgs");
        image(imgs.resolve("b.png"), "png", 10);
        image(imgs.resolve("a.jpg"), "jpg", 200);
        image(imgs.resolve("sub/c.PNG"), "png", 90);
        image(imgs.resolve("sub/deeper/d.bmp"), "bmp", 150);
        Files.writeString(imgs.resolve("readme.txt"), "not an image, and not picked from a folder");
        Files.writeString(imgs.resolve("sub/broken.png"), "this is not a png");
    }

    @Test
    void foldersRecurseForImageExtensionsSorted() throws IOException {
        List<Path> files = PredictCommand.expand(List.of(imgs.toString()));
        assertEquals(List.of(imgs.resolve("a.jpg"), imgs.resolve("b.png"), imgs.resolve("sub/broken.png"), imgs.resolve("sub/c.PNG"),
                imgs.resolve("sub/deeper/d.bmp")), files);
    }

    @Test
    void globsWithinAndAcrossFoldersAndEachFileOnce() throws IOException {
        assertEquals(List.of(imgs.resolve("b.png")), PredictCommand.expand(List.of(imgs + "/*.png")));
        assertEquals(List.of(imgs.resolve("b.png"), imgs.resolve("sub/broken.png")), PredictCommand.expand(List.of(imgs + "/**.png")));
        assertEquals(List.of(imgs.resolve("a.jpg"), imgs.resolve("b.png")),
                PredictCommand.expand(List.of(imgs + "/a.jpg", imgs + "/*.{jpg,png}")));
        UserError none = assertThrows(UserError.class, () -> PredictCommand.expand(List.of(imgs + "/*.gif")));
        assertTrue(none.getMessage().contains("no files match"), none.getMessage());
        UserError missing = assertThrows(UserError.class, () -> PredictCommand.expand(List.of(imgs + "/nope.png")));
        assertTrue(missing.getMessage().contains("nope.png: no such file or folder"), missing.getMessage());
    }

    @Test
    void relativeGlobsMatchFromTheWorkingDirectory() throws IOException {
        Path rel = Path.of("target", "predict-glob-" + System.nanoTime());
        try {
            image(rel.resolve("x.png"), "png", 1);
            image(rel.resolve("y.jpg"), "jpg", 2);
            assertEquals(List.of(rel.resolve("x.png")), PredictCommand.expand(List.of(rel + "/*.png")));
        } finally {
            TinyRun.delete(rel);
        }
    }

    @Test
    void csvHasOneRowPerImageAnErrorRowAndExitOne() throws IOException {
        Path csv = dir.resolve("out.csv");
        Out r = run("predict", "--weights", ckpt.toString(), "--top", "3", "--output", csv.toString(), imgs.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("broken.png: ") && r.err().contains("1 of 5 images could not be classified"), r.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("path,label,index,probability,top2_label,top2_index,top2_probability,top3_label,top3_index,top3_probability,error",
                lines.get(0));
        assertEquals(6, lines.size(), String.join("\n", lines));
        for (String line : lines.subList(1, lines.size())) {
            List<String> f = parseCsv(line);
            assertEquals(11, f.size(), line);
            if (f.get(0).endsWith("broken.png")) {
                assertTrue(f.get(10).contains("not an image"), line);
                assertEquals("", f.get(1));
            } else {
                assertEquals("", f.get(10), line);
                int index = Integer.parseInt(f.get(2));
                assertEquals(CLASSES.get(index), f.get(1), "label of index " + index);
                double p1 = Double.parseDouble(f.get(3)), p2 = Double.parseDouble(f.get(6)), p3 = Double.parseDouble(f.get(9));
                assertTrue(p1 >= p2 && p2 >= p3 && p3 > 0 && p1 + p2 + p3 <= 1.000001, line);
            }
        }
    }

    @Test
    void jsonlHasOneObjectPerImage() throws IOException {
        Path jsonl = dir.resolve("out.jsonl");
        Out r = run("predict", "--weights", ckpt.toString(), "--top", "2", "--output", jsonl.toString(),
                imgs + "/a.jpg", imgs + "/sub/**.{png,PNG}");
        assertEquals(1, r.code(), r.err());
        List<String> lines = Files.readAllLines(jsonl);
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("{\"path\": " + quoted(imgs.resolve("a.jpg"))) && lines.get(0).contains("\"top\": [{\"index\""), lines.get(0));
        assertTrue(lines.get(1).contains("broken.png") && lines.get(1).contains("\"error\": "), lines.get(1));
        assertTrue(lines.get(2).contains("c.PNG") && lines.get(2).contains("\"probability\": "), lines.get(2));
    }

    @Test
    void allGoodIsExitZeroAndStdoutByDefault() {
        Out r = run("predict", "--weights", ckpt.toString(), "--top", "1", imgs + "/a.jpg", imgs + "/b.png");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("a.jpg") && r.out().contains("b.png"), r.out());
    }

    @Test
    void modelThatContradictsTheCheckpointIsAnError() {
        CliErrorsTest.Result r = CliErrorsTest.run("predict", "--model", "mambavision_t", "--weights", ckpt.toString(), imgs + "/a.jpg");
        CliErrorsTest.assertOneLine(r, "--model mambavision_t contradicts", ckpt.toString(), "flat_tiny");
        assertEquals(0, run("predict", "--model", "tiny", "--weights", ckpt.toString(), imgs + "/a.jpg").code(), "an alias of the same model");
    }

    @Test
    void directoryOrTextGivenAsWeightsSaysSo() throws IOException {
        CliErrorsTest.assertOneLine(CliErrorsTest.run("predict", "--weights", dir.toString(), imgs + "/a.jpg"), dir.toString(),
                "is a directory", "best.safetensors");
        Path txt = imgs.resolve("readme.txt");
        CliErrorsTest.assertOneLine(CliErrorsTest.run("predict", "--model", "flat_tiny", "--weights", txt.toString(), imgs + "/a.jpg"),
                txt.toString(), "is a text file");
    }

    @Test
    void badOutputNameIsOneLine() {
        CliErrorsTest.assertOneLine(CliErrorsTest.run("predict", "--weights", ckpt.toString(), "--output", dir.resolve("o.txt").toString(),
                imgs + "/a.jpg"), "o.txt", ".csv or .jsonl");
    }

    @Test
    void modelsListsEveryModelWithAliases() {
        Out text = run("models");
        assertEquals(0, text.code(), text.err());
        for (String name : org.mambavision.models.ModelRegistry.names()) assertTrue(text.out().contains(name), name);
        assertTrue(text.out().contains("31,794,248") && text.out().contains("mamba_vision_T"), text.out());
        Out json = run("models", "--json");
        assertEquals(0, json.code());
        assertTrue(json.out().strip().startsWith("[{\"name\": \"mambavision_t\", \"family\": \"hierarchical\", \"params\": 31794248, \"macs\": "),
                json.out());
        assertEquals(org.mambavision.models.ModelRegistry.names().size(), json.out().split("\"name\": ").length - 1);
    }

    private static String quoted(Path p) {
        return "\"" + p.toString().replace("\\", "\\\\") + "\"";
    }

    /** One RFC 4180 line to its fields. */
    static List<String> parseCsv(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
