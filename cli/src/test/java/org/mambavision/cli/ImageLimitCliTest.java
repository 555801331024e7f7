package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.Weights;

/** predict refuses an image whose header declares too many pixels with one line, before decoding it. */
class ImageLimitCliTest {
    /** A 20000x20000 grey PNG of zeros, compressed: about 400 KB on disk, 400 MB decoded. */
    static byte[] zerosPng(int side) throws Exception {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat)) {
            byte[] row = new byte[side + 1];
            for (int y = 0; y < side; y++) z.write(row);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 8).put(new byte[4]).array());
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws Exception {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void predictRefusesADecompressionBomb(@TempDir Path dir) throws Exception {
        Path weights = dir.resolve("mini.safetensors");
        Weights.save(ModelRegistry.create("mambavision_mini"), weights, Map.of());
        Path bomb = dir.resolve("zeros.png");
        Files.write(bomb, zerosPng(20000));
        assertTrue(Files.size(bomb) < 2_000_000);
        CliErrorsTest.Result r = CliErrorsTest.run("predict", "--model", "mambavision_mini", "--weights", weights.toString(), bomb.toString());
        CliErrorsTest.assertOneLine(r, bomb.toString(), "20000x20000 is 400,000,000 pixels, above the limit of 89,478,485");
        // a lower limit applies to ordinary images too
        Path small = dir.resolve("small.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", small.toFile());
        CliErrorsTest.Result r2 = CliErrorsTest.run("predict", "--model", "mambavision_mini", "--weights", weights.toString(),
                "--max-image-pixels", "1000", small.toString());
        CliErrorsTest.assertOneLine(r2, small.toString(), "40x30 is 1,200 pixels, above the limit of 1,000");
    }
}
