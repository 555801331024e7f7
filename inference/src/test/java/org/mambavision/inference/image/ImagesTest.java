package org.mambavision.inference.image;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    /** A PNG whose header declares width x height; the single IDAT chunk is a tiny zlib stream (no pixels). */
    static byte[] pngDeclaring(int width, int height) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    static Path png(Path dir, String name, int w, int h) throws IOException {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) bi.setRGB(x, y, (x * 7) << 16 | (y * 5) << 8 | 99);
        Path f = dir.resolve(name);
        ImageIO.write(bi, "png", f.toFile());
        return f;
    }

    @Test
    void aHugeDeclaredImageIsRefusedFromItsHeaderBeforeDecoding(@TempDir Path dir) throws IOException {
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, pngDeclaring(20000, 20000));
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        IOException e = assertThrows(IOException.class, () -> Images.readBuffered(bomb));
        assertTrue(e.getMessage().startsWith(bomb + ": 20000x20000 is 400,000,000 pixels, above the limit of 89,478,485"), e.getMessage());
        assertEquals("20000x20000 is 400,000,000 pixels, above the limit of 89,478,485 (max_image_pixels / --max-image-pixels)",
                Images.headerProblem(bomb, Images.DEFAULT_MAX_PIXELS));
        // refused from the header: a decode would need 1.2 GB of pixels
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 200L << 20, "memory grew by " + (after - before));
        IOException fromBytes = assertThrows(IOException.class, () -> Images.decode(Files.readAllBytes(bomb), "upload", 1000));
        assertTrue(fromBytes.getMessage().startsWith("upload: 20000x20000 is 400,000,000 pixels"), fromBytes.getMessage());
    }

    @Test
    void theLimitIsConfigurable(@TempDir Path dir) throws IOException {
        Path f = png(dir, "a.png", 20, 10);
        assertEquals(20, Images.readBuffered(f, 200).getWidth());
        IOException e = assertThrows(IOException.class, () -> Images.readBuffered(f, 199));
        assertTrue(e.getMessage().contains("20x10 is 200 pixels, above the limit of 199"), e.getMessage());
        Image img = Images.read(f, 1, 200);
        assertEquals(1, img.channels());
        assertEquals(10, img.height());
    }

    @Test
    void badFilesGetOneMessageNamingThem(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("notes.png");
        Files.writeString(text, "hello, not an image\n");
        IOException e = assertThrows(IOException.class, () -> Images.readBuffered(text));
        assertEquals(text + ": not an image or unsupported format (JPEG, PNG, BMP and GIF are read)", e.getMessage());
        IOException d = assertThrows(IOException.class, () -> Images.readBuffered(dir));
        assertEquals(dir + ": is a directory, not an image", d.getMessage());
        Path good = png(dir, "good.png", 64, 64);
        byte[] all = Files.readAllBytes(good);
        Path truncated = dir.resolve("truncated.png");
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
        IOException t = assertThrows(IOException.class, () -> Images.readBuffered(truncated));
        assertTrue(t.getMessage().startsWith(truncated + ": cannot decode image ("), t.getMessage());
        assertNull(Images.headerProblem(good, 4096));
    }
}
