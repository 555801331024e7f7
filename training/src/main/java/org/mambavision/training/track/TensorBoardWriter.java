package org.mambavision.training.track;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Writes scalar summaries in TensorBoard's event-file format, without TensorFlow or a protobuf library.
 *
 * <p>The file {@code events.out.tfevents.<unix-seconds>.<hostname>} is a TFRecord stream: each record is
 * {@code uint64 length (LE), uint32 masked CRC32C(length bytes), data, uint32 masked CRC32C(data)}. The data are
 * serialized {@code tensorflow.Event} messages: the first carries {@code file_version = "brain.Event:2"}, each
 * scalar is {@code Event{wall_time, step, summary{value{tag, simple_value}}}}.
 *
 * <p>Failures (unwritable directory, full disk) are reported once through {@code warn}; the writer then
 * disables itself and further calls do nothing, so training never sees an exception from here.
 */
public final class TensorBoardWriter implements AutoCloseable {
    static final String FILE_VERSION = "brain.Event:2";
    private static final int MASK_DELTA = 0xa282ead8;

    // tensorflow.Event fields
    private static final int EVENT_WALL_TIME = 1, EVENT_STEP = 2, EVENT_FILE_VERSION = 3, EVENT_SUMMARY = 5;
    // tensorflow.Summary and Summary.Value fields
    private static final int SUMMARY_VALUE = 1, VALUE_TAG = 1, VALUE_SIMPLE_VALUE = 2;
    // protobuf wire types
    private static final int VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

    private final Consumer<String> warn;
    private final Path file;
    private OutputStream out;

    private TensorBoardWriter(Path file, OutputStream out, Consumer<String> warn) {
        this.file = file;
        this.out = out;
        this.warn = warn;
    }

    /** Opens a new event file in {@code dir}, warning on standard error if that fails. */
    public static TensorBoardWriter open(Path dir) {
        return open(dir, Guard.STDERR);
    }

    /**
     * Opens a new event file in {@code dir} (created if missing) and writes the file-version record.
     * Never throws: on failure {@code warn} is told and the returned writer ignores all calls.
     */
    public static TensorBoardWriter open(Path dir, Consumer<String> warn) {
        long seconds = System.currentTimeMillis() / 1000;
        String base = "events.out.tfevents." + seconds + "." + hostname();
        Path file = null;
        OutputStream out = null;
        try {
            Files.createDirectories(dir);
            // Two writers opened in the same second (a resumed run, a test) must not share a file.
            for (int attempt = 0; out == null; attempt++) {
                file = dir.resolve(attempt == 0 ? base : base + "." + attempt);
                try {
                    out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE));
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 1000) throw e;
                }
            }
            TensorBoardWriter writer = new TensorBoardWriter(file, out, warn);
            writer.writeRecord(fileVersionEvent(nowSeconds()));
            writer.flush();
            return writer;
        } catch (Throwable t) {
            Guard.rethrowIfFatal(t);
            closeQuietly(out);
            Guard.warn(warn, "TensorBoard: cannot write event file in " + dir + ": " + Guard.describe(t));
            return new TensorBoardWriter(file, null, warn);
        }
    }

    /** The event file, or null if it could not even be named. */
    public Path file() {
        return file;
    }

    /** False once a failure has disabled the writer. */
    public boolean isActive() {
        return out != null;
    }

    /** Appends one scalar event; buffered until {@link #flush()}. */
    public void addScalar(String tag, float value, long step) {
        if (out == null) return;
        try {
            writeRecord(scalarEvent(nowSeconds(), step, tag, value));
        } catch (Throwable t) {
            fail("write", t);
        }
    }

    /** Pushes buffered events to the file; call after each epoch so TensorBoard sees progress. */
    public void flush() {
        if (out == null) return;
        try {
            out.flush();
        } catch (Throwable t) {
            fail("flush", t);
        }
    }

    @Override
    public void close() {
        if (out == null) return;
        try {
            out.close();
            out = null;
        } catch (Throwable t) {
            fail("close", t);
        }
    }

    private void fail(String what, Throwable t) {
        Guard.rethrowIfFatal(t);
        closeQuietly(out);
        out = null;
        Guard.warn(warn, "TensorBoard: " + what + " of " + file + " failed, no more events will be written: "
                + Guard.describe(t));
    }

    private void writeRecord(byte[] data) throws IOException {
        byte[] header = new byte[8];
        putLongLE(header, 0, data.length);
        byte[] trailer = new byte[4];
        putIntLE(trailer, 0, maskedCrc32c(header, 0, 8));
        out.write(header);
        out.write(trailer);
        out.write(data);
        putIntLE(trailer, 0, maskedCrc32c(data, 0, data.length));
        out.write(trailer);
    }

    // ---- event encoding (package-private for the tests) ----

    static byte[] fileVersionEvent(double wallTime) {
        ProtoBuffer event = new ProtoBuffer();
        event.fixed64(EVENT_WALL_TIME, Double.doubleToRawLongBits(wallTime));
        event.bytes(EVENT_FILE_VERSION, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        return event.toByteArray();
    }

    static byte[] scalarEvent(double wallTime, long step, String tag, float value) {
        ProtoBuffer v = new ProtoBuffer();
        v.bytes(VALUE_TAG, tag.getBytes(StandardCharsets.UTF_8));
        v.fixed32(VALUE_SIMPLE_VALUE, Float.floatToRawIntBits(value));
        ProtoBuffer summary = new ProtoBuffer();
        summary.bytes(SUMMARY_VALUE, v.toByteArray());
        ProtoBuffer event = new ProtoBuffer();
        event.fixed64(EVENT_WALL_TIME, Double.doubleToRawLongBits(wallTime));
        event.varint(EVENT_STEP, step);
        event.bytes(EVENT_SUMMARY, summary.toByteArray());
        return event.toByteArray();
    }

    /** TFRecord's CRC: CRC32C rotated right by 15 bits plus a constant, so CRCs of CRCs don't look like data. */
    static int maskedCrc32c(byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, len);
        return mask((int) crc.getValue());
    }

    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    /** Minimal protobuf writer: varint, fixed64, fixed32 and length-delimited fields. */
    private static final class ProtoBuffer extends ByteArrayOutputStream {
        void tag(int field, int wireType) {
            rawVarint(((long) field << 3) | wireType);
        }

        void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            write((int) v);
        }

        void varint(int field, long v) {
            tag(field, VARINT);
            rawVarint(v);
        }

        void fixed64(int field, long bits) {
            tag(field, FIXED64);
            for (int i = 0; i < 8; i++) write((int) (bits >>> (8 * i)));
        }

        void fixed32(int field, int bits) {
            tag(field, FIXED32);
            for (int i = 0; i < 4; i++) write(bits >>> (8 * i));
        }

        void bytes(int field, byte[] b) {
            tag(field, LEN);
            rawVarint(b.length);
            write(b, 0, b.length);
        }
    }

    private static void putLongLE(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) b[off + i] = (byte) (v >>> (8 * i));
    }

    private static void putIntLE(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) b[off + i] = (byte) (v >>> (8 * i));
    }

    private static double nowSeconds() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static String hostname() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                name = "localhost";
            }
        }
        // The host name ends up in a file name: keep it to safe characters.
        String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return safe.isEmpty() ? "localhost" : safe;
    }

    private static void closeQuietly(OutputStream out) {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException ignored) {
            // already failing; the first error is the one reported
        }
    }
}
