package org.mambavision.training.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {

    @Test
    void syntheticIsDeterministicAndBalanced() {
        DataOptions o = DataOptions.defaults().withSize(50).withNumClasses(5).withImageSize(16).withSeed(7);
        Dataset a = Datasets.create("synthetic", o), b = Datasets.create("synthetic", o);
        for (int i : new int[] {0, 13, 49}) {
            assertEquals(a.get(i), b.get(i));
            assertEquals(i % 5, a.get(i).label());
        }
        assertEquals("3x16x16", a.get(0).image().shapeString());
        assertNotEquals(a.get(0).image(), Datasets.create("synthetic", o.withSeed(8)).get(0).image());
        for (float v : a.get(3).chw()) assertTrue(v >= 0 && v <= 1);
    }

    /** A nearest-class-mean classifier on raw pixels, fitted on one seeded half, scored on the other. */
    @Test
    void syntheticClassesAreSeparable() {
        int k = 10;
        Dataset d = new SyntheticDataset(2000, k, 16, 3, 42, 0.1f);
        Split s = Splits.trainVal(d, 0.5, 1);
        int dim = 3 * 16 * 16;
        double[][] mean = new double[k][dim];
        int[] count = new int[k];
        for (int i = 0; i < s.train().size(); i++) {
            Sample x = s.train().get(i);
            count[x.label()]++;
            for (int j = 0; j < dim; j++) mean[x.label()][j] += x.chw()[j];
        }
        for (int c = 0; c < k; c++) for (int j = 0; j < dim; j++) mean[c][j] /= count[c];
        int correct = 0;
        for (int i = 0; i < s.val().size(); i++) {
            Sample x = s.val().get(i);
            int best = -1;
            double bestDist = Double.MAX_VALUE;
            for (int c = 0; c < k; c++) {
                double dist = 0;
                for (int j = 0; j < dim; j++) {
                    double e = x.chw()[j] - mean[c][j];
                    dist += e * e;
                }
                if (dist < bestDist) {
                    bestDist = dist;
                    best = c;
                }
            }
            if (best == x.label()) correct++;
        }
        double acc = (double) correct / s.val().size();
        assertTrue(acc > 0.6, "nearest-class-mean accuracy " + acc + " (chance 0.1)");
    }

    @Test
    void fakeIsDeterministicRandom() {
        DataOptions o = DataOptions.defaults().withSize(20).withNumClasses(4).withImageSize(8).withChannels(1);
        Dataset a = Datasets.create("fake", o);
        assertEquals(a.get(5), Datasets.create("fake", o).get(5));
        assertEquals("1x8x8", a.get(5).image().shapeString());
        Set<Integer> labels = new HashSet<>();
        for (int i = 0; i < 20; i++) labels.add(a.get(i).label());
        assertTrue(labels.size() > 1);
    }

    @Test
    void unknownNameListsValidNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.create("mnist", DataOptions.defaults()));
        for (String n : Datasets.NAMES) assertTrue(e.getMessage().contains(n), e.getMessage());
    }

    @Test
    void splitsArePermutationsWithoutOverlap() {
        Dataset d = new FakeDataset(101, 3, 4, 1, 0);
        Split s = Splits.trainVal(d, 0.8, 5);
        assertEquals(81, s.train().size());
        assertEquals(20, s.val().size());
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < s.train().size(); i++) seen.add(s.train().sourceIndex(i));
        for (int i = 0; i < s.val().size(); i++) assertTrue(seen.add(s.val().sourceIndex(i)));
        assertEquals(101, seen.size());
        assertEquals(d.get(s.val().sourceIndex(3)), s.val().get(3));
        assertArrayEquals(indices(s.val()), indices(Splits.trainVal(d, 0.8, 5).val()));
        assertTrue(!Arrays.equals(indices(s.val()), indices(Splits.trainVal(d, 0.8, 6).val())));
    }

    static int[] indices(Subset s) {
        int[] r = new int[s.size()];
        for (int i = 0; i < r.length; i++) r[i] = s.sourceIndex(i);
        return r;
    }

    // ---- Fashion-MNIST (IDX) -----------------------------------------------------------------

    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt((type << 8) | dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static void write(Path p, byte[] bytes, boolean gz) throws IOException {
        if (!gz) {
            Files.write(p, bytes);
            return;
        }
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(bytes);
        }
        Files.write(Path.of(p + ".gz"), bo.toByteArray());
    }

    static void writeMnist(Path dir, String prefix, int n, boolean gz) throws IOException {
        byte[] px = new byte[n * 784], lab = new byte[n];
        for (int i = 0; i < n; i++) {
            lab[i] = (byte) (i % 10);
            for (int j = 0; j < 784; j++) px[i * 784 + j] = (byte) (i * 31 + j);
        }
        write(dir.resolve(prefix + "-images-idx3-ubyte"), idx(8, new int[] {n, 28, 28}, px), gz);
        write(dir.resolve(prefix + "-labels-idx1-ubyte"), idx(8, new int[] {n}, lab), gz);
    }

    @Test
    void fashionMnistPlainAndGzip(@TempDir Path dir) throws IOException {
        writeMnist(dir, "train", 12, true);
        writeMnist(dir, "t10k", 5, false);
        DataOptions o = DataOptions.defaults().withDataDir(dir).withChannels(1);
        Dataset train = Datasets.create("fashion-mnist", o), test = Datasets.create("fashion_mnist", o.withTrain(false));
        assertEquals(12, train.size());
        assertEquals(5, test.size());
        assertEquals(10, train.numClasses());
        assertEquals("Ankle boot", train.classNames().get(9));
        Sample s = train.get(7);
        assertEquals(7, s.label());
        assertEquals("1x28x28", s.image().shapeString());
        assertEquals(((7 * 31 + 100) & 0xFF) / 255f, s.chw()[100], 0f);
        Sample big = Datasets.create("fashion-mnist", o.withImageSize(32).withChannels(3)).get(3);
        assertEquals("3x32x32", big.image().shapeString());
        assertArrayEquals(Arrays.copyOfRange(big.chw(), 0, 1024), Arrays.copyOfRange(big.chw(), 1024, 2048), 0f);
    }

    @Test
    void idxBadMagicAndLengthNameTheFile(@TempDir Path dir) throws IOException {
        writeMnist(dir, "train", 3, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        byte[] b = Files.readAllBytes(images);
        b[3] = 1; // claims 1 dimension
        Files.write(images, b);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Datasets.create("fashion-mnist", DataOptions.defaults().withDataDir(dir)));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains("magic"), e.getMessage());
        writeMnist(dir, "train", 3, false);
        Files.write(images, Arrays.copyOf(Files.readAllBytes(images), 4 + 12 + 784 * 3 - 5));
        e = assertThrows(UncheckedIOException.class, () -> Datasets.create("fashion-mnist", DataOptions.defaults().withDataDir(dir)));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains("length"), e.getMessage());
    }

    @Test
    void fashionMnistMissingSaysHowToInstall(@TempDir Path dir) {
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class,
                () -> Datasets.create("fashion-mnist", DataOptions.defaults().withDataDir(dir.resolve("nothing"))));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist") && e.getMessage().contains("data_dir"), e.getMessage());
    }

    // ---- CIFAR -------------------------------------------------------------------------------

    static byte[] cifarRecords(int n, int labelBytes, int numClasses, int salt) {
        int rs = labelBytes + 3072;
        byte[] b = new byte[n * rs];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < labelBytes; l++) b[i * rs + l] = (byte) ((i + salt + l * 7) % numClasses);
            for (int j = 0; j < 3072; j++) b[i * rs + labelBytes + j] = (byte) (i * 13 + j + salt);
        }
        return b;
    }

    @Test
    void cifar10Binary(@TempDir Path root) throws IOException {
        Path dir = Files.createDirectories(root.resolve("cifar-10-batches-bin"));
        for (int k = 1; k <= 5; k++) Files.write(dir.resolve("data_batch_" + k + ".bin"), cifarRecords(4, 1, 10, k));
        Files.write(dir.resolve("test_batch.bin"), cifarRecords(3, 1, 10, 9));
        Files.writeString(dir.resolve("batches.meta.txt"), "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
        DataOptions o = DataOptions.defaults().withDataDir(root);
        Dataset train = Datasets.create("cifar10", o);
        assertEquals(20, train.size());
        assertEquals("truck", train.classNames().get(9));
        Sample s = train.get(5); // batch 2, record 1
        assertEquals((1 + 2) % 10, s.label());
        assertEquals(((13 + 0 + 2) & 0xFF) / 255f, s.chw()[0], 0f);
        assertEquals(((13 + 2048 + 2) & 0xFF) / 255f, s.chw()[2048], 0f); // blue plane
        assertEquals(3, Datasets.create("cifar10", o.withTrain(false)).size());
        assertEquals("1x16x16", Datasets.create("cifar10", o.withImageSize(16).withChannels(1)).get(0).image().shapeString());
    }

    @Test
    void cifar100UsesFineLabelsAndRejectsBadLength(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("train.bin"), cifarRecords(6, 2, 100, 40));
        Files.write(dir.resolve("test.bin"), cifarRecords(2, 2, 100, 0));
        Dataset d = Datasets.create("cifar100", DataOptions.defaults().withDataDir(dir));
        assertEquals(100, d.numClasses());
        assertEquals("0", d.classNames().get(0));
        assertEquals((3 + 40 + 7) % 100, d.get(3).label()); // fine label: second byte
        Files.write(dir.resolve("train.bin"), Arrays.copyOf(cifarRecords(6, 2, 100, 40), 3074 * 6 - 1));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Datasets.create("cifar100", DataOptions.defaults().withDataDir(dir)));
        assertTrue(e.getMessage().contains("train.bin"), e.getMessage());
    }

    // ---- imagefolder -------------------------------------------------------------------------

    static void writeImage(Path p, String format, int w, int h, int seed) throws IOException {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, ((x * 40 + seed) & 0xFF) << 16 | ((y * 30) & 0xFF) << 8 | (seed * 20 & 0xFF));
        assertTrue(ImageIO.write(bi, format, p.toFile()), "writer for " + format);
    }

    @Test
    void imageFolderIndexesDecodesAndSkipsCorruptFiles(@TempDir Path root) throws IOException {
        Path cats = Files.createDirectories(root.resolve("cats")), dogs = Files.createDirectories(root.resolve("dogs"));
        writeImage(cats.resolve("a.png"), "png", 6, 5, 1);
        writeImage(cats.resolve("b.jpg"), "jpg", 7, 4, 2);
        writeImage(dogs.resolve("c.bmp"), "bmp", 3, 3, 3);
        Files.writeString(dogs.resolve("broken.png"), "definitely not a png");
        Files.writeString(dogs.resolve("readme.txt"), "ignored: not an image extension");
        // A file whose header is fine but whose body is cut off: only found when decoding.
        byte[] png = Files.readAllBytes(cats.resolve("a.png"));
        Files.write(dogs.resolve("truncated.png"), Arrays.copyOf(png, 40));

        ImageFolder d = (ImageFolder) Datasets.create("imagefolder", DataOptions.defaults().withDataDir(root));
        assertEquals(List.of("cats", "dogs"), d.classNames());
        assertEquals(4, d.size()); // a, b, c, truncated
        assertEquals(1, d.skipped().size());
        assertTrue(d.skipped().get(0).contains("broken.png"), d.skipped().toString());

        Sample a = d.get(0);
        assertEquals(0, a.label());
        assertEquals("3x5x6", a.image().shapeString());
        assertEquals(((2 * 40 + 1) & 0xFF) / 255f, a.image().get(0, 1, 2), 0f); // PNG is lossless
        assertEquals("3x4x7", d.get(1).image().shapeString());
        assertEquals(1, d.get(2).label());

        int truncated = d.file(3).getFileName().toString().equals("truncated.png") ? 3 : -1;
        assertEquals(3, truncated);
        Sample replacement = d.get(3); // cannot decode: the next readable sample (index 0) instead, no exception
        assertEquals(a.image(), replacement.image());
        assertEquals(2, d.skipped().size());
        assertTrue(d.skipped().get(1).contains("truncated.png"), d.skipped().toString());
        d.get(3);
        assertEquals(2, d.skipped().size(), "each bad file is listed once");

        Dataset grey = Datasets.create("imagefolder", DataOptions.defaults().withDataDir(root).withChannels(1).withVerifyImages(false));
        assertEquals(5, grey.size());
        assertEquals(1, grey.get(0).channels());
    }

    @Test
    void imageFolderPicksSplitSubfolder(@TempDir Path root) throws IOException {
        writeImage(Files.createDirectories(root.resolve("train/x")).resolve("1.png"), "png", 2, 2, 1);
        writeImage(Files.createDirectories(root.resolve("train/y")).resolve("2.png"), "png", 2, 2, 2);
        writeImage(Files.createDirectories(root.resolve("val/x")).resolve("3.png"), "png", 2, 2, 3);
        DataOptions o = DataOptions.defaults().withDataDir(root);
        assertEquals(2, Datasets.create("imagefolder", o).size());
        assertEquals(1, Datasets.create("imagefolder", o.withTrain(false)).size());
    }
}
