package org.mambavision.training.track;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.mambavision.engine.io.AtomicFiles;

/**
 * PNG figures of a run, drawn headless: training curves (XChart), a grid of sample images, a confusion matrix
 * and the model summary (Java2D, for exact control over captions and numbers in cells). Every file is
 * written atomically. Methods throw IOException; wrap calls made during training in {@link Guard#run}.
 */
public final class Plots {
    static {
        // Must happen before any AWT class initialises; harmless when already set.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** Size of one panel of {@link #trainingCurves}; the PNG is three panels side by side. */
    public static final int CURVE_PANEL_WIDTH = 520, CURVE_PANEL_HEIGHT = 400;

    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    private static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font MONO = new Font(Font.MONOSPACED, Font.PLAIN, 12);

    private Plots() {}

    /** One row of a model summary: module name, its output shape as text, its parameter count. */
    public record LayerRow(String name, String outputShape, long params) {}

    // ------------------------------------------------------------------ training curves

    /** Height of the line under the panels that says what the training loss includes. */
    public static final int NOTE_HEIGHT = 24;

    /** Most labelled ticks on an axis: more labels of a 520-pixel panel run into each other. */
    static final int MAX_TICK_LABELS = 10;

    /**
     * Loss (train/val), accuracy in % (train top-1, val top-1, val top-5) and learning rate against epoch,
     * as three panels in one PNG of {@code 3*CURVE_PANEL_WIDTH x CURVE_PANEL_HEIGHT}. Rows are metric maps as
     * written by {@link MetricsLog}; missing or null values leave gaps (series with no values are left out).
     */
    public static void trainingCurves(List<Map<String, Object>> metrics, Path png) throws IOException {
        trainingCurves(metrics, png, null);
    }

    /**
     * As {@link #trainingCurves(List, Path)}, with {@code note} (if not null or blank) written under the panels,
     * {@link #NOTE_HEIGHT} pixels taller; see {@link #trainLossNote}.
     */
    public static void trainingCurves(List<Map<String, Object>> metrics, Path png, String note) throws IOException {
        double[] epochs = epochRange(metrics);
        XYChart loss = curveChart("Loss", "loss", epochs);
        addSeries(loss, metrics, "train", MetricsLog.TRAIN_LOSS, 1);
        addSeries(loss, metrics, "val", MetricsLog.VAL_LOSS, 1);

        XYChart acc = curveChart("Accuracy", "accuracy (%)", epochs);
        addSeries(acc, metrics, "train top-1", MetricsLog.TRAIN_TOP1, 100);
        addSeries(acc, metrics, "val top-1", MetricsLog.VAL_TOP1, 100);
        addSeries(acc, metrics, "val top-5", MetricsLog.VAL_TOP5, 100);
        double[] accRange = range(acc);
        // Percentages read as such: whole numbers unless the curves span less than a few points.
        acc.getStyler().setYAxisDecimalPattern(accRange != null && accRange[1] - accRange[0] < 5 ? "0.##" : "0");

        XYChart lr = curveChart("Learning rate", "lr", epochs);
        // its legend too, though one series, so that the three plot areas line up
        double[] lrRange = addSeries(lr, metrics, "learning rate per epoch", MetricsLog.LR, 1);
        // A log axis shows warmup and cosine decay over decades; only possible for positive values.
        boolean log = lrRange != null && lrRange[0] > 0 && lrRange[1] / lrRange[0] > 20;
        lr.getStyler().setYAxisLogarithmic(log);
        // XChart places log-axis ticks only with a decimal pattern (a formatting function gets linear ticks
        // on log-scaled data): decades as 1E-3 there, every tick as 2.5e-4 on a linear axis.
        if (log) lr.getStyler().setYAxisDecimalPattern("0E0");
        else lr.getStyler().setyAxisTickLabelsFormattingFunction(Plots::scientific);

        List<XYChart> charts = List.of(loss, acc, lr);
        boolean withNote = note != null && !note.isBlank();
        BufferedImage img = new BufferedImage(3 * CURVE_PANEL_WIDTH, CURVE_PANEL_HEIGHT + (withNote ? NOTE_HEIGHT : 0),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        for (int i = 0; i < charts.size(); i++) g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), i * CURVE_PANEL_WIDTH, 0, null);
        if (withNote) {
            g.setFont(TEXT);
            g.setColor(Color.DARK_GRAY);
            FontMetrics fm = g.getFontMetrics();
            g.drawString(fit(note, fm, img.getWidth() - 20), 10, CURVE_PANEL_HEIGHT + (NOTE_HEIGHT + fm.getAscent()) / 2 - 2);
        }
        g.dispose();
        writePng(img, png);
    }

    /**
     * What makes the training loss differ from a plain cross-entropy (and sit above the validation loss):
     * label smoothing and mixed (mixup/cutmix) targets. Null when there is neither.
     */
    public static String trainLossNote(double labelSmoothing, double mixup, double cutmix) {
        List<String> parts = new ArrayList<>();
        if (labelSmoothing > 0) parts.add(String.format(Locale.ROOT, "label smoothing %s", trim(labelSmoothing)));
        if (mixup > 0) parts.add(String.format(Locale.ROOT, "mixup alpha %s", trim(mixup)));
        if (cutmix > 0) parts.add(String.format(Locale.ROOT, "cutmix alpha %s", trim(cutmix)));
        if (parts.isEmpty()) return null;
        return "Training loss includes " + String.join(" and ", parts)
                + " (soft targets), so it is higher than a plain cross-entropy; validation loss is plain cross-entropy.";
    }

    private static String trim(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** 0.001 -> "1e-3", 0.00095 -> "9.5e-4", 0 -> "0": short enough for a tick label, exact to two digits. */
    static String scientific(double v) {
        if (v == 0 || !Double.isFinite(v)) return v == 0 ? "0" : Double.toString(v);
        int exp = (int) Math.floor(Math.log10(Math.abs(v)));
        double mantissa = v / Math.pow(10, exp);
        if (Math.abs(mantissa) >= 9.995) { // rounds up to the next decade
            mantissa /= 10;
            exp++;
        }
        String m = String.format(Locale.ROOT, "%.2f", mantissa).replaceAll("0+$", "").replaceAll("\\.$", "");
        return m + "e" + exp;
    }

    /** [first, last] epoch of the rows (1-based row numbers where a row has no epoch), or null without rows. */
    private static double[] epochRange(List<Map<String, Object>> rows) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < rows.size(); i++) {
            double x = MetricsLog.number(rows.get(i), MetricsLog.EPOCH);
            if (Double.isNaN(x)) x = i + 1;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        return rows.isEmpty() ? null : new double[] {min, max};
    }

    /** The smallest of 1, 2, 5, 10, 20, 50, ... epochs that labels at most {@link #MAX_TICK_LABELS} ticks. */
    static int epochTickStep(double first, double last) {
        double span = Math.max(0, last - first);
        for (long step = 1; ; step *= 10) {
            for (long m : new long[] {1, 2, 5}) if (span / (m * step) < MAX_TICK_LABELS) return (int) (m * step);
        }
    }

    private static XYChart curveChart(String title, String yTitle, double[] epochs) {
        XYChart chart = new XYChartBuilder().width(CURVE_PANEL_WIDTH).height(CURVE_PANEL_HEIGHT)
                .title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        // under the plot, in one row: a legend inside the plot covers the curves wherever they happen to run
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setMarkerSize(5);
        s.setAntiAlias(true);
        // Epochs are whole numbers: label only whole multiples of a step that keeps the labels apart
        // (XChart's own ticks give 1 3 5 ... 49 at 50 epochs, which run into each other).
        int step = epochs == null ? 1 : epochTickStep(epochs[0], epochs[1]);
        chart.getStyler().setxAxisTickLabelsFormattingFunction(x -> {
            long e = Math.round(x);
            return Math.abs(x - e) < 1e-6 && e % step == 0 ? Long.toString(e) : "";
        });
        if (epochs != null && step > 1) {
            // ticks where the labels are: the axis starts and ends on a labelled epoch
            chart.getStyler().setXAxisMin(Math.floor(epochs[0] / step) * step);
            chart.getStyler().setXAxisMax(Math.ceil(epochs[1] / step) * step);
        }
        return chart;
    }

    /** [min, max] of every y value of the chart's series, or null if none. */
    private static double[] range(XYChart chart) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (var series : chart.getSeriesMap().values()) {
            for (double y : series.getYData()) {
                min = Math.min(min, y);
                max = Math.max(max, y);
            }
        }
        return min <= max ? new double[] {min, max} : null;
    }

    /** Adds the finite values of {@code key} (times {@code scale}); returns [min, max] or null if none. */
    private static double[] addSeries(XYChart chart, List<Map<String, Object>> rows, String name, String key,
                                      double scale) {
        List<double[]> points = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Map<String, Object> row = rows.get(i);
            double y = MetricsLog.number(row, key);
            double x = MetricsLog.number(row, MetricsLog.EPOCH);
            if (Double.isNaN(x)) x = i + 1;
            if (Double.isFinite(y)) points.add(new double[] {x, y * scale});
        }
        if (points.isEmpty()) return null;
        double[] xs = new double[points.size()], ys = new double[points.size()];
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < xs.length; i++) {
            xs[i] = points.get(i)[0];
            ys[i] = points.get(i)[1];
            min = Math.min(min, ys[i]);
            max = Math.max(max, ys[i]);
        }
        chart.addSeries(name, xs, ys);
        return new double[] {min, max};
    }

    // ------------------------------------------------------------------ sample grid

    /** Minimum displayed size of one sample; small images (28x28, 32x32) are enlarged by pixel repetition. */
    static final int MIN_CELL = 96;
    static final int CAPTION_HEIGHT = 18, GAP = 4;

    /**
     * A grid of {@code n} images from an NCHW float batch, denormalised with {@code x * std + mean} per
     * channel (null mean/std: values already in [0, 1]) and clamped, each captioned with {@code labels[i]}
     * (null or missing labels: no caption). One channel is drawn as grey, three as RGB; other channel counts
     * show the first channel.
     */
    public static void sampleGrid(float[] images, int n, int c, int h, int w, float[] mean, float[] std,
                                  String[] labels, Path png) throws IOException {
        if (n < 1 || c < 1 || h < 1 || w < 1 || images.length < (long) n * c * h * w) {
            throw new IllegalArgumentException("sampleGrid: " + images.length + " floats for n=" + n + " c=" + c
                    + " h=" + h + " w=" + w);
        }
        int cols = (int) Math.ceil(Math.sqrt(n));
        int rows = (n + cols - 1) / cols;
        int scale = Math.max(1, (MIN_CELL + Math.max(h, w) - 1) / Math.max(h, w));
        int cellW = w * scale, cellH = h * scale + CAPTION_HEIGHT;
        BufferedImage img = new BufferedImage(GAP + cols * (cellW + GAP), GAP + rows * (cellH + GAP),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        g.setFont(TEXT);
        FontMetrics fm = g.getFontMetrics();
        BufferedImage tile = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            int base = i * c * plane;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = y * w + x;
                    int r = channel(images, base, p, plane, 0, mean, std);
                    int gr = c >= 3 ? channel(images, base, p, plane, 1, mean, std) : r;
                    int b = c >= 3 ? channel(images, base, p, plane, 2, mean, std) : r;
                    tile.setRGB(x, y, (r << 16) | (gr << 8) | b);
                }
            }
            int x0 = GAP + (i % cols) * (cellW + GAP), y0 = GAP + (i / cols) * (cellH + GAP);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.drawImage(tile, x0, y0, cellW, h * scale, null);
            if (labels != null && i < labels.length && labels[i] != null) {
                String caption = fit(labels[i], fm, cellW);
                g.setColor(Color.BLACK);
                g.drawString(caption, x0 + (cellW - fm.stringWidth(caption)) / 2, y0 + h * scale + fm.getAscent() + 2);
            }
        }
        g.dispose();
        writePng(img, png);
    }

    private static int channel(float[] images, int base, int p, int plane, int ch, float[] mean, float[] std) {
        float v = images[base + ch * plane + p];
        if (std != null && ch < std.length) v *= std[ch];
        if (mean != null && ch < mean.length) v += mean[ch];
        if (!(v > 0)) return 0; // also maps NaN to black
        return v >= 1 ? 255 : Math.round(v * 255);
    }

    // ------------------------------------------------------------------ confusion matrix

    /**
     * Heatmap of {@code counts[true][predicted]}: cell colour is the row-normalised rate (recall), the number
     * is the count (drawn while cells are large enough to read). Class names label rows and columns.
     */
    public static void confusionMatrix(int[][] counts, List<String> classNames, Path png) throws IOException {
        int k = counts.length;
        for (int[] row : counts) {
            if (row.length != k) throw new IllegalArgumentException("confusionMatrix: rows of length " + row.length
                    + " in a " + k + "x" + k + " matrix");
        }
        if (classNames != null && classNames.size() != k) {
            throw new IllegalArgumentException("confusionMatrix: " + classNames.size() + " class names for " + k
                    + " classes");
        }
        int cell = Math.max(8, Math.min(56, 900 / Math.max(1, k)));
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(12, cell - 2)));
        FontMetrics lfm = metrics(labelFont);
        int labelW = 0;
        for (int i = 0; i < k; i++) labelW = Math.max(labelW, lfm.stringWidth(name(classNames, i)));
        labelW = Math.min(labelW, 160) + 10;
        // Top to bottom, each in a band of its own so that nothing overlaps: title, subtitle, the
        // "predicted" axis title, the upright column labels, the matrix.
        String subtitle = "rows: true class, columns: predicted; colour: share of the row";
        FontMetrics tfm = metrics(TEXT);
        int titleBase = 22, subtitleBase = 42, axisTitleBase = 64;
        int top = axisTitleBase + 8 + labelW, left = 30 + labelW;
        int width = Math.max(left + k * cell + 20, 20 + Math.max(tfm.stringWidth(subtitle), metrics(TITLE).stringWidth("Confusion matrix")));
        int height = top + k * cell + 20;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);

        g.setFont(TITLE);
        g.setColor(Color.BLACK);
        g.drawString("Confusion matrix", 10, titleBase);
        g.setFont(TEXT);
        g.setColor(Color.DARK_GRAY);
        g.drawString(subtitle, 10, subtitleBase);

        Font numberFont = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(8, Math.min(13, cell / 3)));
        FontMetrics nfm = metrics(numberFont);
        for (int t = 0; t < k; t++) {
            long rowSum = 0;
            for (int v : counts[t]) rowSum += v;
            for (int p = 0; p < k; p++) {
                double rate = rowSum == 0 ? 0 : counts[t][p] / (double) rowSum;
                Color fill = heat(rate);
                int x = left + p * cell, y = top + t * cell;
                g.setColor(fill);
                g.fillRect(x, y, cell, cell);
                String num = Integer.toString(counts[t][p]);
                if (cell >= 18 && nfm.stringWidth(num) <= cell - 2) {
                    g.setFont(numberFont);
                    g.setColor(luminance(fill) < 0.5 ? Color.WHITE : Color.BLACK);
                    g.drawString(num, x + (cell - nfm.stringWidth(num)) / 2, y + (cell + nfm.getAscent()) / 2 - 2);
                }
            }
        }
        g.setColor(Color.GRAY);
        g.drawRect(left, top, k * cell, k * cell);

        g.setFont(labelFont);
        g.setColor(Color.BLACK);
        if (cell >= 8) {
            for (int i = 0; i < k; i++) {
                String s = fit(name(classNames, i), lfm, labelW - 10);
                g.drawString(s, left - 6 - lfm.stringWidth(s), top + i * cell + (cell + lfm.getAscent()) / 2 - 2);
                // column labels run upwards
                Graphics2D r = (Graphics2D) g.create();
                r.translate(left + i * cell + (cell + lfm.getAscent()) / 2 - 2, top - 6);
                r.rotate(-Math.PI / 2);
                r.drawString(s, 0, 0);
                r.dispose();
            }
        }
        Graphics2D r = (Graphics2D) g.create();
        r.setFont(TEXT);
        r.translate(16, top + k * cell / 2 + tfm.stringWidth("true") / 2);
        r.rotate(-Math.PI / 2);
        r.drawString("true", 0, 0);
        r.dispose();
        g.setFont(TEXT);
        g.drawString("predicted", left + (k * cell - tfm.stringWidth("predicted")) / 2, axisTitleBase);
        g.dispose();
        writePng(img, png);
    }

    private static String name(List<String> names, int i) {
        return names == null ? Integer.toString(i) : names.get(i);
    }

    /** White to dark blue. */
    private static Color heat(double t) {
        t = Math.max(0, Math.min(1, t));
        return new Color((int) Math.round(247 - t * (247 - 8)), (int) Math.round(251 - t * (251 - 48)),
                (int) Math.round(255 - t * (255 - 107)));
    }

    private static double luminance(Color c) {
        return (0.299 * c.getRed() + 0.587 * c.getGreen() + 0.114 * c.getBlue()) / 255;
    }

    // ------------------------------------------------------------------ architecture

    static final int ROW_HEIGHT = 20, MAX_ROWS = 400;

    /**
     * The model summary as a table image: name, output shape, parameters, and a bar of each row's share of
     * the total parameters. Very long summaries are cut at {@value #MAX_ROWS} rows with a "... more" line.
     */
    public static void architecture(List<LayerRow> rows, Path png) throws IOException {
        long total = 0;
        for (LayerRow r : rows) total += Math.max(0, r.params());
        int shown = Math.min(rows.size(), MAX_ROWS);
        FontMetrics fm = metrics(MONO);
        int nameW = fm.stringWidth("Layer"), shapeW = fm.stringWidth("Output shape"), paramW = fm.stringWidth("Params");
        for (int i = 0; i < shown; i++) {
            LayerRow r = rows.get(i);
            nameW = Math.max(nameW, fm.stringWidth(r.name()));
            shapeW = Math.max(shapeW, fm.stringWidth(r.outputShape()));
            paramW = Math.max(paramW, fm.stringWidth(group(r.params())));
        }
        nameW = Math.min(nameW, 520);
        int barW = 200, pad = 12;
        int xName = pad, xShape = xName + nameW + 2 * pad, xParams = xShape + shapeW + 2 * pad,
                xBar = xParams + paramW + 2 * pad;
        int width = xBar + barW + 60;
        int extraLines = (rows.size() > shown ? 1 : 0) + 1;
        int height = 50 + ROW_HEIGHT * (shown + 1 + extraLines) + pad;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        g.setFont(TITLE);
        g.setColor(Color.BLACK);
        g.drawString("Model summary", pad, 26);

        int y = 50;
        g.setFont(MONO.deriveFont(Font.BOLD));
        g.setColor(new Color(230, 234, 242));
        g.fillRect(0, y, width, ROW_HEIGHT);
        g.setColor(Color.BLACK);
        int base = y + (ROW_HEIGHT + fm.getAscent()) / 2 - 2;
        g.drawString("Layer", xName, base);
        g.drawString("Output shape", xShape, base);
        g.drawString("Params", xParams + paramW - fm.stringWidth("Params"), base);
        g.drawString("share", xBar, base);
        g.setFont(MONO);
        for (int i = 0; i < shown; i++) {
            LayerRow r = rows.get(i);
            y += ROW_HEIGHT;
            if (i % 2 == 1) {
                g.setColor(new Color(246, 247, 250));
                g.fillRect(0, y, width, ROW_HEIGHT);
            }
            base = y + (ROW_HEIGHT + fm.getAscent()) / 2 - 2;
            g.setColor(Color.BLACK);
            g.drawString(fit(r.name(), fm, nameW), xName, base);
            g.drawString(r.outputShape(), xShape, base);
            String p = group(r.params());
            g.drawString(p, xParams + paramW - fm.stringWidth(p), base);
            if (total > 0 && r.params() > 0) {
                double share = r.params() / (double) total;
                g.setColor(new Color(70, 130, 180));
                g.fillRect(xBar, y + 4, Math.max(1, (int) Math.round(share * barW)), ROW_HEIGHT - 8);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.1f%%", 100 * share), xBar + barW + 6, base);
            }
        }
        if (rows.size() > shown) {
            y += ROW_HEIGHT;
            g.setColor(Color.DARK_GRAY);
            g.drawString("... " + (rows.size() - shown) + " more rows", xName, y + (ROW_HEIGHT + fm.getAscent()) / 2 - 2);
        }
        y += ROW_HEIGHT;
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawLine(0, y, width, y);
        g.setColor(Color.BLACK);
        g.setFont(MONO.deriveFont(Font.BOLD));
        base = y + (ROW_HEIGHT + fm.getAscent()) / 2 - 2;
        g.drawString("Total", xName, base);
        String t = group(total);
        g.drawString(t, xParams + paramW - fm.stringWidth(t), base);
        g.dispose();
        writePng(img, png);
    }

    /** 31794248 -> "31,794,248". */
    static String group(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    // ------------------------------------------------------------------ helpers

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        return g;
    }

    private static FontMetrics metrics(Font font) {
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scratch.createGraphics();
        try {
            return g.getFontMetrics(font);
        } finally {
            g.dispose();
        }
    }

    /** Shortens {@code s} with an ellipsis until it fits {@code width} pixels. */
    private static String fit(String s, FontMetrics fm, int width) {
        if (fm.stringWidth(s) <= width) return s;
        for (int len = s.length() - 1; len > 0; len--) {
            String t = s.substring(0, len) + "…";
            if (fm.stringWidth(t) <= width) return t;
        }
        return "";
    }

    private static void writePng(BufferedImage img, Path png) throws IOException {
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG encoder available");
        });
    }
}
