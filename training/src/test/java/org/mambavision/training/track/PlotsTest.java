package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    @TempDir
    Path tmp;

    static BufferedImage readPng(Path png) throws IOException {
        assertTrue(Files.size(png) > 100, png + " is (nearly) empty");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not a decodable image");
        return img;
    }

    /** Number of distinct colours: a blank canvas has one, a drawing many. */
    static int colours(BufferedImage img) {
        java.util.Set<Integer> set = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) for (int x = 0; x < img.getWidth(); x += 2) set.add(img.getRGB(x, y));
        return set.size();
    }

    static List<Map<String, Object>> metrics(int epochs) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            Map<String, Object> r = new MetricsLog.EpochMetrics(e, 2.3 / e, 0.1 * e, e % 2 == 0 ? Double.NaN : 2.0 / e,
                    0.08 * e, 0.3 + 0.05 * e, 1e-3 * Math.cos(e / (double) epochs), 200, 3.5, null).toMap();
            rows.add(r);
        }
        return rows;
    }

    @Test
    void trainingCurvesHasThreePanels() throws IOException {
        Path png = tmp.resolve("curves.png");
        Plots.trainingCurves(metrics(6), png);
        BufferedImage img = readPng(png);
        assertEquals(3 * Plots.CURVE_PANEL_WIDTH, img.getWidth());
        assertEquals(Plots.CURVE_PANEL_HEIGHT, img.getHeight());
        assertTrue(colours(img) > 20);
    }

    @Test
    void trainingCurvesWithASingleEpochAndMissingSeries() throws IOException {
        Map<String, Object> only = new LinkedHashMap<>();
        only.put("epoch", 1L);
        only.put("train_loss", 2.0);
        only.put("lr", 1e-3);
        Path png = tmp.resolve("one.png");
        Plots.trainingCurves(List.of(only), png);
        assertEquals(3 * Plots.CURVE_PANEL_WIDTH, readPng(png).getWidth());
    }

    @Test
    void trainingCurvesWithANoteAreTallerAndTheNoteIsWritten() throws IOException {
        Path png = tmp.resolve("noted.png");
        String note = Plots.trainLossNote(0.1, 0, 0);
        Plots.trainingCurves(metrics(4), png, note);
        BufferedImage img = readPng(png);
        assertEquals(Plots.CURVE_PANEL_HEIGHT + Plots.NOTE_HEIGHT, img.getHeight());
        boolean text = false;
        for (int y = Plots.CURVE_PANEL_HEIGHT; y < img.getHeight(); y++) {
            for (int x = 0; x < 300; x++) text |= (img.getRGB(x, y) & 0xFF) < 128;
        }
        assertTrue(text, "no note drawn under the panels");
    }

    @Test
    void trainLossNoteNamesWhatTheLossIncludes() {
        assertNull(Plots.trainLossNote(0, 0, 0));
        String ls = Plots.trainLossNote(0.1, 0, 0);
        assertTrue(ls.contains("label smoothing 0.1"), ls);
        assertFalse(ls.contains("mixup"), ls);
        String all = Plots.trainLossNote(0.1, 0.8, 1.0);
        assertTrue(all.contains("label smoothing 0.1") && all.contains("mixup alpha 0.8") && all.contains("cutmix alpha 1"), all);
    }

    @Test
    void epochTicksStayApart() {
        assertEquals(1, Plots.epochTickStep(1, 1));
        assertEquals(1, Plots.epochTickStep(1, 8));
        assertEquals(2, Plots.epochTickStep(1, 12));
        assertEquals(5, Plots.epochTickStep(1, 50));
        assertEquals(50, Plots.epochTickStep(1, 310));
        for (int last = 1; last < 2000; last += 7) {
            int step = Plots.epochTickStep(1, last);
            assertTrue((last - 1) / step < Plots.MAX_TICK_LABELS, last + " epochs, step " + step);
        }
    }

    @Test
    void learningRateTickLabelsAreShortAndDistinct() {
        assertEquals("1e-3", Plots.scientific(1e-3));
        assertEquals("9.5e-4", Plots.scientific(9.5e-4));
        assertEquals("1.25e-5", Plots.scientific(1.25e-5));
        assertEquals("1e-3", Plots.scientific(9.9999e-4));
        assertEquals("0", Plots.scientific(0));
        assertNotEquals(Plots.scientific(9.2e-4), Plots.scientific(9.4e-4));
    }

    @Test
    void sampleGridDenormalisesAndCaptions() throws IOException {
        int n = 5, c = 3, h = 32, w = 32;
        float[] mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
        float[] images = new float[n * c * h * w];
        java.util.Random rnd = new java.util.Random(1);
        for (int i = 0; i < images.length; i++) images[i] = (float) rnd.nextGaussian();
        // image 0 is pure red after denormalisation
        float[] red = {1, 0, 0};
        for (int ch = 0; ch < 3; ch++) {
            for (int p = 0; p < h * w; p++) images[ch * h * w + p] = (red[ch] - mean[ch]) / std[ch];
        }
        Path png = tmp.resolve("samples.png");
        Plots.sampleGrid(images, n, c, h, w, mean, std, new String[] {"cat", "dog", "ship", "truck", "a very long label here"}, png);
        BufferedImage img = readPng(png);
        int scale = 3, cellW = w * scale, cellH = h * scale + Plots.CAPTION_HEIGHT; // 96 px min cell
        assertEquals(Plots.GAP + 3 * (cellW + Plots.GAP), img.getWidth());
        assertEquals(Plots.GAP + 2 * (cellH + Plots.GAP), img.getHeight());
        assertEquals(0xFF0000, img.getRGB(Plots.GAP + 10, Plots.GAP + 10) & 0xFFFFFF);
        assertEquals(0xFF0000, img.getRGB(Plots.GAP + cellW - 1, Plots.GAP + h * scale - 1) & 0xFFFFFF);
        // caption strip below image 0 has dark (text) pixels
        boolean text = false;
        for (int y = Plots.GAP + h * scale; y < Plots.GAP + cellH; y++) {
            for (int x = Plots.GAP; x < Plots.GAP + cellW; x++) text |= (img.getRGB(x, y) & 0xFF) < 100;
        }
        assertTrue(text, "caption drawn");
    }

    @Test
    void sampleGridGreyscaleWithoutNormalisationOrLabels() throws IOException {
        int n = 2, h = 28, w = 20;
        float[] images = new float[n * h * w];
        java.util.Arrays.fill(images, 0.5f);
        Path png = tmp.resolve("grey.png");
        Plots.sampleGrid(images, n, 1, h, w, null, null, null, png);
        BufferedImage img = readPng(png);
        int scale = 4; // ceil(96 / 28)
        assertEquals(Plots.GAP + 2 * (w * scale + Plots.GAP), img.getWidth());
        assertEquals(0x808080, img.getRGB(Plots.GAP + 1, Plots.GAP + 1) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class,
                () -> Plots.sampleGrid(new float[10], 2, 1, h, w, null, null, null, tmp.resolve("bad.png")));
    }

    @Test
    void confusionMatrixSmallAndLarge() throws IOException {
        int[][] counts = {{50, 2, 0}, {5, 40, 5}, {0, 0, 0}};
        Path png = tmp.resolve("confusion.png");
        Plots.confusionMatrix(counts, List.of("airplane", "automobile", "bird"), png);
        BufferedImage img = readPng(png);
        assertTrue(img.getWidth() >= 3 * 56 && img.getHeight() >= 3 * 56);
        assertTrue(colours(img) > 10);

        int k = 100;
        int[][] big = new int[k][k];
        for (int i = 0; i < k; i++) { big[i][i] = 30; big[i][(i + 1) % k] = 3; }
        Path png2 = tmp.resolve("confusion100.png");
        Plots.confusionMatrix(big, null, png2);
        BufferedImage img2 = readPng(png2);
        assertTrue(img2.getWidth() >= k * 8 && img2.getHeight() >= k * 8);

        assertThrows(IllegalArgumentException.class, () -> Plots.confusionMatrix(new int[][] {{1, 2}, {3}}, null, png));
        assertThrows(IllegalArgumentException.class, () -> Plots.confusionMatrix(counts, List.of("a"), png));
    }

    @Test
    void architectureTable() throws IOException {
        List<Plots.LayerRow> rows = List.of(
                new Plots.LayerRow("patch_embed", "[1, 80, 56, 56]", 25_000),
                new Plots.LayerRow("levels.0", "[1, 160, 28, 28]", 300_000),
                new Plots.LayerRow("levels.2.blocks.4.mixer", "[64, 196, 320]", 410_560),
                new Plots.LayerRow("head", "[1, 1000]", 641_000));
        Path png = tmp.resolve("architecture.png");
        Plots.architecture(rows, png);
        BufferedImage img = readPng(png);
        assertEquals(50 + Plots.ROW_HEIGHT * (rows.size() + 2) + 12, img.getHeight());
        assertTrue(img.getWidth() > 400);
        assertEquals("31,794,248", Plots.group(31_794_248));
    }

    @Test
    void reportReferencesExistingFiles() throws IOException {
        Plots.trainingCurves(metrics(3), tmp.resolve("curves.png"));
        Plots.confusionMatrix(new int[][] {{1, 0}, {0, 1}}, List.of("a", "b"), tmp.resolve("confusion matrix.png"));
        MetricsLog log = new MetricsLog(tmp, Guard.STDERR);
        for (Map<String, Object> r : metrics(3)) log.log(r);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("name", "demo <run>");
        summary.put("model", "flat_tiny");
        summary.put("params", 1_234_567L);
        summary.put("best_val_top1", 0.8125);

        Path html = Report.write(tmp, summary);
        assertEquals(tmp.toAbsolutePath().resolve("report.html"), html);
        String text = Files.readString(html);
        assertTrue(text.contains("<title>Run demo &lt;run&gt;</title>"), "escaped title");
        assertTrue(text.contains("<th>best_val_top1</th><td>0.8125</td>"));

        Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(text);
        List<String> srcs = new ArrayList<>();
        while (m.find()) srcs.add(m.group(1));
        assertEquals(List.of("curves.png", "confusion%20matrix.png"), srcs);
        for (String src : srcs) {
            Path p = tmp.resolve(java.net.URLDecoder.decode(src, java.nio.charset.StandardCharsets.UTF_8));
            assertTrue(Files.isRegularFile(p), src);
        }
        // header row + one row per epoch in the metrics table
        int metricRows = text.split("<tr><td class=\"num\">", -1).length - 1;
        assertEquals(3, metricRows);

        // images that don't exist are left out
        Report.write(tmp, summary, List.of(Path.of("missing.png"), tmp.resolve("curves.png")), List.of());
        String again = Files.readString(html);
        assertFalse(again.contains("missing.png"));
        assertTrue(again.contains("src=\"curves.png\""));
    }

    @Test
    void plotIntoUnwritableDirectoryWarns() throws IOException {
        Path regularFile = Files.writeString(tmp.resolve("file"), "x");
        List<String> warnings = new ArrayList<>();
        assertFalse(Guard.run(warnings::add, "plotting curves",
                () -> Plots.trainingCurves(metrics(2), regularFile.resolve("curves.png"))));
        assertFalse(Guard.run(warnings::add, "writing report",
                () -> Report.write(regularFile.resolve("run"), Map.of("a", 1))));
        assertEquals(2, warnings.size(), warnings.toString());
    }
}
