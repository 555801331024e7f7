package org.mambavision.training.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file (the MNIST format): magic 0x0000 0x08 (unsigned byte) ndims, then ndims big-endian int32 sizes,
 * then the values. Gzip-compressed files are recognised by their own magic bytes.
 */
public record IdxFile(int[] dims, byte[] data) {
    public static final int UBYTE = 0x08;

    /** Reads and validates the header and the data length; errors name the file. */
    public static IdxFile read(Path file, int expectedDims) throws IOException {
        byte[] raw = readMaybeGzip(file);
        if (raw.length < 4) throw new IOException(file + ": not an IDX file (only " + raw.length + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(raw);
        int magic = b.getInt();
        int type = (magic >>> 8) & 0xFF, nd = magic & 0xFF;
        if ((magic >>> 16) != 0 || type != UBYTE || nd != expectedDims) {
            throw new IOException(String.format("%s: bad IDX magic number 0x%08X (expected 0x%08X: unsigned bytes, %d dimensions)",
                    file, magic, (UBYTE << 8) | expectedDims, expectedDims));
        }
        if (raw.length < 4 + 4 * nd) throw new IOException(file + ": IDX header truncated");
        int[] dims = new int[nd];
        long n = 1;
        for (int i = 0; i < nd; i++) {
            dims[i] = b.getInt();
            if (dims[i] < 0) throw new IOException(file + ": negative IDX dimension " + dims[i]);
            n *= dims[i];
        }
        long have = raw.length - 4L - 4L * nd;
        if (have != n) {
            throw new IOException(file + ": IDX data length " + have + " bytes does not match dimensions " + Arrays.toString(dims) + " (" + n + " bytes)");
        }
        return new IdxFile(dims, Arrays.copyOfRange(raw, 4 + 4 * nd, raw.length));
    }

    static byte[] readMaybeGzip(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (raw.length >= 2 && (raw[0] & 0xFF) == 0x1F && (raw[1] & 0xFF) == 0x8B) {
            try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw), 1 << 16)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
                in.transferTo(out);
                return out.toByteArray();
            } catch (IOException e) {
                throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
            }
        }
        return raw;
    }
}
