package org.mambavision.inference.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Image decoding (javax.imageio: JPEG, PNG, BMP, GIF) and conversion to planar 8-bit or float images.
 *
 * <p>Images are untrusted input: the width and height are read from the file's header and checked against a pixel
 * limit before any pixel is decoded, so a small file that declares a huge image (a 1 MB PNG of 20000x20000 zeros)
 * is refused instead of exhausting the heap. The default limit is PIL's decompression-bomb warning threshold.
 */
public final class Images {
    /** PIL's Image.MAX_IMAGE_PIXELS: 1024 * 1024 * 1024 / 4 / 3. */
    public static final long DEFAULT_MAX_PIXELS = 89_478_485L;

    private Images() {}

    /** Decodes a file with the default pixel limit. */
    public static BufferedImage readBuffered(Path file) throws IOException {
        return readBuffered(file, DEFAULT_MAX_PIXELS);
    }

    /**
     * Decodes a file; one clear IOException naming the file when it is missing, a directory, not an image, larger
     * than {@code maxPixels} (checked from the header, before decoding) or corrupt.
     */
    public static BufferedImage readBuffered(Path file, long maxPixels) throws IOException {
        if (Files.isDirectory(file)) throw new IOException(file + ": is a directory, not an image");
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file + ": no such file");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in, file.toString(), maxPixels);
        }
    }

    /** Decodes encoded image bytes (an upload, a Spark binary column); {@code name} names them in errors. */
    public static BufferedImage decode(byte[] encoded, String name, long maxPixels) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            return decode(in, name, maxPixels);
        }
    }

    private static BufferedImage decode(ImageInputStream in, String name, long maxPixels) throws IOException {
        ImageReader reader = readerFor(in, name);
        try {
            reader.setInput(in, true, true);
            checkPixels(reader, name, maxPixels);
            BufferedImage bi = reader.read(0);
            if (bi == null) throw new IOException(name + ": not an image or unsupported format");
            return bi;
        } catch (IOException | RuntimeException e) {
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(name + ": ")) throw io;
            throw new IOException(name + ": cannot decode image (" + describe(e) + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * Reads only the header: null when the file is an image within the limit, else why it is not (not an image,
     * unsupported format, too many pixels, unreadable header).
     */
    public static String headerProblem(Path file, long maxPixels) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = readerFor(in, file.toString());
            try {
                reader.setInput(in, true, true);
                checkPixels(reader, file.toString(), maxPixels);
                return null;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage();
            return m != null && m.startsWith(file + ": ") ? m.substring(file.toString().length() + 2) : "unreadable header (" + describe(e) + ")";
        }
    }

    /** Cheap header check with the default pixel limit: true when the file is an image within it. */
    public static boolean looksLikeImage(Path file) {
        return headerProblem(file, DEFAULT_MAX_PIXELS) == null;
    }

    private static ImageReader readerFor(ImageInputStream in, String name) throws IOException {
        if (in == null) throw new IOException(name + ": cannot be read");
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) throw new IOException(name + ": not an image or unsupported format (JPEG, PNG, BMP and GIF are read)");
        return readers.next();
    }

    private static void checkPixels(ImageReader reader, String name, long maxPixels) throws IOException {
        long w = reader.getWidth(0), h = reader.getHeight(0);
        if (w <= 0 || h <= 0) throw new IOException(name + ": bad image size " + w + "x" + h + " in its header");
        if (w * h > maxPixels) {
            throw new IOException(String.format(Locale.ROOT, "%s: %dx%d is %,d pixels, above the limit of %,d (max_image_pixels / --max-image-pixels)",
                    name, w, h, w * h, maxPixels));
        }
    }

    private static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** Decodes a file to an RGB float image in [0, 1] (alpha dropped, like PIL's convert("RGB")). */
    public static Image read(Path file) throws IOException {
        return read(file, 3, DEFAULT_MAX_PIXELS);
    }

    /** Decodes a file to a 1-channel (PIL "L" luma) or 3-channel float image in [0, 1]. */
    public static Image read(Path file, int channels, long maxPixels) throws IOException {
        BufferedImage bi = readBuffered(file, maxPixels);
        return Image.fromU8Planes(toU8Planes(bi, channels), channels, bi.getHeight(), bi.getWidth());
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
