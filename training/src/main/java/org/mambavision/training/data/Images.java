package org.mambavision.training.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/** Image file decoding (javax.imageio: JPEG, PNG, BMP, GIF) and conversion to planar 8-bit or float images. */
public final class Images {
    private Images() {}

    /** Decodes a file; a clear IOException naming the file when it is missing, not an image, or corrupt. */
    public static BufferedImage readBuffered(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file + ": no such file");
        BufferedImage bi;
        try {
            bi = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
        if (bi == null) throw new IOException(file + ": not an image or unsupported format");
        return bi;
    }

    /** Decodes a file to an RGB float image in [0, 1] (alpha dropped, like PIL's convert("RGB")). */
    public static Image read(Path file) throws IOException {
        return read(file, 3);
    }

    /** Decodes a file to a 1-channel (PIL "L" luma) or 3-channel float image in [0, 1]. */
    public static Image read(Path file, int channels) throws IOException {
        BufferedImage bi = readBuffered(file);
        return Image.fromU8Planes(toU8Planes(bi, channels), channels, bi.getHeight(), bi.getWidth());
    }

    /** Cheap header check: true when some installed ImageIO reader recognises the file's first bytes. */
    public static boolean looksLikeImage(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) return false;
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            return readers.hasNext();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    public static Image fromBuffered(BufferedImage bi, int channels) {
        return Image.fromU8Planes(toU8Planes(bi, channels), channels, bi.getHeight(), bi.getWidth());
    }

    /**
     * The pixels as planar unsigned bytes (CHW): 3 channels RGB or 1 channel luma computed as PIL's convert("L")
     * does. Grey and 8-bit sRGB rasters are read directly (no colour management, matching PIL's decoded values);
     * other colour models go through getRGB.
     */
    public static byte[] toU8Planes(BufferedImage bi, int channels) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("Images: channels must be 1 or 3, got " + channels);
        int w = bi.getWidth(), h = bi.getHeight(), n = w * h;
        ColorModel cm = bi.getColorModel();
        Raster r = bi.getRaster();
        boolean indexed = cm instanceof IndexColorModel;
        int bands = r.getNumBands();
        byte[] out = new byte[channels * n];
        int[] row = new int[w * Math.max(bands, 1)];
        if (!indexed && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && bands <= 2) {
            int bits = cm.getComponentSize(0);
            int max = (1 << bits) - 1;
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int s = row[x];
                    int v = bits == 8 ? s : bits == 16 ? s >>> 8 : (int) Math.round(s * 255.0 / max);
                    for (int c = 0; c < channels; c++) out[c * n + y * w + x] = (byte) v;
                }
            }
            return out;
        }
        boolean direct = !indexed && cm.getColorSpace().isCS_sRGB() && bands >= 3
                && cm.getComponentSize(0) == 8 && cm.getComponentSize(1) == 8 && cm.getComponentSize(2) == 8;
        for (int y = 0; y < h; y++) {
            if (direct) {
                r.getPixels(0, y, w, 1, row);
            } else {
                bi.getRGB(0, y, w, 1, row, 0, w);
            }
            for (int x = 0; x < w; x++) {
                int red, green, blue;
                if (direct) {
                    red = row[x * bands];
                    green = row[x * bands + 1];
                    blue = row[x * bands + 2];
                } else {
                    int argb = row[x];
                    red = (argb >>> 16) & 0xFF;
                    green = (argb >>> 8) & 0xFF;
                    blue = argb & 0xFF;
                }
                int i = y * w + x;
                if (channels == 3) {
                    out[i] = (byte) red;
                    out[n + i] = (byte) green;
                    out[2 * n + i] = (byte) blue;
                } else {
                    out[i] = (byte) ((red * 19595 + green * 38470 + blue * 7471 + 0x8000) >>> 16);
                }
            }
        }
        return out;
    }
}
