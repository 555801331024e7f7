package org.mambavision.training.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    private static Path png(Path dir, String name, int w, int h) throws IOException {
        Files.createDirectories(dir);
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, (x * 9) << 16 | (y * 4) << 8 | 7);
        Path f = dir.resolve(name);
        ImageIO.write(bi, "png", f.toFile());
        return f;
    }

    /** A PNG header declaring w x h (no pixel data): what a decompression bomb looks like before decoding. */
    private static Path declaring(Path dir, String name, int w, int h) throws IOException {
        Path big = png(dir, name, 2, 2);
        byte[] b = Files.readAllBytes(big);
        java.nio.ByteBuffer.wrap(b, 16, 8).putInt(w).putInt(h);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 12, 17);
        java.nio.ByteBuffer.wrap(b, 29, 4).putInt((int) crc.getValue());
        Files.write(big, b);
        return big;
    }

    @Test
    void unreadableFilesAreNamedWithTheirReason(@TempDir Path root) throws IOException {
        png(root.resolve("cat"), "a.png", 12, 10);
        png(root.resolve("cat"), "b.png", 12, 10);
        Path bomb = declaring(root.resolve("cat"), "bomb.png", 20000, 20000);
        Path text = root.resolve("dog").resolve("readme.jpg");
        Files.createDirectories(text.getParent());
        Files.writeString(text, "not a jpeg");
        png(root.resolve("dog"), "c.png", 12, 10);
        Path good = png(root.resolve("dog"), "d.png", 64, 64);
        byte[] all = Files.readAllBytes(good);
        Files.write(good, java.util.Arrays.copyOf(all, all.length / 2)); // header fine, pixels cut off

        ImageFolder f = ImageFolder.load(DataOptions.defaults().withDataDir(root));
        assertEquals(List.of("cat", "dog"), f.classNames());
        assertEquals(4, f.size()); // a, b, c and the truncated d pass the header check
        List<String> skipped = f.skipped();
        assertEquals(2, skipped.size(), skipped.toString());
        assertTrue(skipped.get(0).startsWith(bomb + ": 20000x20000 is 400,000,000 pixels, above the limit"), skipped.get(0));
        assertTrue(skipped.get(1).startsWith(text + ": not an image"), skipped.get(1));
        for (int i = 0; i < f.size(); i++) f.get(i); // the truncated file is found when decoded...
        assertEquals(3, f.skipped().size());
        assertTrue(f.skipped().get(2).startsWith(good + ": cannot decode image"), f.skipped().get(2)); // ...and named

        // a lower limit skips the 12x10 images too, leaving classes without usable images: an error naming the folder
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class,
                () -> ImageFolder.load(DataOptions.defaults().withDataDir(root).withMaxImagePixels(100)));
        assertTrue(e.getMessage().contains("class folder " + root.resolve("cat") + " has no usable image"), e.getMessage());
        assertTrue(e.getMessage().contains("a.png: 12x10 is 120 pixels, above the limit of 100"), e.getMessage());
    }

    @Test
    void anEmptyClassFolderIsAnError(@TempDir Path root) throws IOException {
        png(root.resolve("a"), "x.png", 8, 8);
        Files.createDirectories(root.resolve("b"));
        Files.writeString(root.resolve("b").resolve("notes.txt"), "no images here");
        DatasetNotFoundException e = assertThrows(DatasetNotFoundException.class, () -> new ImageFolder(root, 3, true));
        assertEquals("imagefolder: class folder " + root.resolve("b") + " has no .jpg/.jpeg/.png/.bmp files", e.getMessage());
    }

    @Test
    void aSymlinkLoopIsSkippedAndNamed(@TempDir Path root) throws IOException {
        png(root.resolve("a"), "x.png", 8, 8);
        png(root.resolve("a").resolve("sub"), "y.png", 8, 8);
        Path loop = root.resolve("a").resolve("sub").resolve("back");
        Files.createSymbolicLink(loop, root.resolve("a"));
        ImageFolder f = new ImageFolder(root, 3, true);
        assertEquals(2, f.size());
        assertEquals(List.of(loop + ": symbolic link loop, skipped"), f.skipped());
    }
}
