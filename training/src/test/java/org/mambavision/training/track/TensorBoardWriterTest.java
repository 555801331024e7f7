package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardWriterTest {
    @TempDir
    Path tmp;

    /** Bitwise CRC32C (Castagnoli, reflected polynomial 0x82F63B78), independent of java.util.zip. */
    static int crc32cBitwise(byte[] b, int off, int len) {
        int crc = 0xFFFFFFFF;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
        }
        return ~crc;
    }

    static int maskIndependent(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    @Test
    void crc32cKnownVectorsAndMask() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, crc32cBitwise(check, 0, check.length), "CRC32C check value");
        // RFC 3720 (iSCSI) vectors
        byte[] zeros = new byte[32], ones = new byte[32], inc = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        for (int i = 0; i < 32; i++) inc[i] = (byte) i;
        assertEquals(0x8A9136AA, crc32cBitwise(zeros, 0, 32));
        assertEquals(0x62A8AB43, crc32cBitwise(ones, 0, 32));
        assertEquals(0x46DD794E, crc32cBitwise(inc, 0, 32));
        for (byte[] v : List.of(check, zeros, ones, inc)) {
            assertEquals(maskIndependent(crc32cBitwise(v, 0, v.length)), TensorBoardWriter.maskedCrc32c(v, 0, v.length));
        }
        // mask of the check value, worked out by hand: rotr15(0xE3069283) = 0x2507C60D, + 0xA282EAD8
        assertEquals(0x2507C60D, Integer.rotateRight(0xE3069283, 15));
        assertEquals(0x2507C60D + 0xA282EAD8, TensorBoardWriter.mask(0xE3069283));
    }

    record Scalar(double wallTime, long step, String tag, float value) {}

    @Test
    void writesEventsTensorBoardCanParse() throws IOException {
        double before = System.currentTimeMillis() / 1000.0;
        List<String> warnings = new ArrayList<>();
        Path dir = tmp.resolve("tb");
        try (TensorBoardWriter w = TensorBoardWriter.open(dir, warnings::add)) {
            assertTrue(w.isActive());
            w.addScalar("train/loss", 2.25f, 1);
            w.addScalar("val/top1", 0.375f, 1);
            w.flush();
            w.addScalar("train/loss", 1.5f, 2);
            w.addScalar("lr", 1e-4f, 3_000_000_000L); // step beyond int range
            w.addScalar("neg", -3.5f, -1); // negative int64 step: a 10-byte varint
        }
        double after = System.currentTimeMillis() / 1000.0 + 1e-3;
        assertEquals(List.of(), warnings);

        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.toList();
        }
        assertEquals(1, files.size());
        String name = files.get(0).getFileName().toString();
        assertTrue(name.matches("events\\.out\\.tfevents\\.\\d{10}\\.[A-Za-z0-9._-]+"), name);

        List<byte[]> records = readRecords(Files.readAllBytes(files.get(0)));
        assertEquals(6, records.size());

        // first record: wall_time + file_version
        Object[] first = decodeEvent(records.get(0));
        assertTrue((double) first[0] >= before - 1 && (double) first[0] <= after, "wall_time " + first[0]);
        assertEquals("brain.Event:2", first[2]);

        List<Scalar> scalars = new ArrayList<>();
        for (int i = 1; i < records.size(); i++) {
            Object[] e = decodeEvent(records.get(i));
            assertNull(e[2]);
            Scalar s = (Scalar) e[3];
            scalars.add(new Scalar((double) e[0], (long) e[1], s.tag(), s.value()));
        }
        assertEquals("train/loss", scalars.get(0).tag());
        assertEquals(2.25f, scalars.get(0).value());
        assertEquals(1, scalars.get(0).step());
        assertEquals("val/top1", scalars.get(1).tag());
        assertEquals(0.375f, scalars.get(1).value());
        assertEquals(1.5f, scalars.get(2).value());
        assertEquals(2, scalars.get(2).step());
        assertEquals(1e-4f, scalars.get(3).value());
        assertEquals(3_000_000_000L, scalars.get(3).step());
        assertEquals(-1L, scalars.get(4).step());
        assertEquals(-3.5f, scalars.get(4).value());
        for (Scalar s : scalars) assertTrue(s.wallTime() >= before - 1 && s.wallTime() <= after);
    }

    @Test
    void twoWritersInTheSameSecondGetDifferentFiles() throws IOException {
        try (TensorBoardWriter a = TensorBoardWriter.open(tmp); TensorBoardWriter b = TensorBoardWriter.open(tmp)) {
            assertNotEquals(a.file(), b.file());
            assertTrue(b.file().getFileName().toString().contains("tfevents"));
        }
    }

    @Test
    void unwritableDirectoryWarnsAndNeverThrows() throws IOException {
        Path regularFile = Files.writeString(tmp.resolve("not-a-dir"), "x");
        List<String> warnings = new ArrayList<>();
        TensorBoardWriter w = TensorBoardWriter.open(regularFile.resolve("tb"), warnings::add);
        assertFalse(w.isActive());
        w.addScalar("x", 1f, 1);
        w.flush();
        w.close();
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("TensorBoard: cannot write event file in "), warnings.get(0));
    }

    // ---- an independent TFRecord + protobuf reader

    /** Splits a TFRecord stream, checking both masked CRCs of every record. */
    static List<byte[]> readRecords(byte[] file) {
        ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        while (buf.hasRemaining()) {
            byte[] header = new byte[8];
            buf.get(header);
            int headerCrc = buf.getInt();
            assertEquals(maskIndependent(crc32cBitwise(header, 0, 8)), headerCrc, "length CRC");
            long len = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] data = new byte[(int) len];
            buf.get(data);
            int dataCrc = buf.getInt();
            assertEquals(maskIndependent(crc32cBitwise(data, 0, data.length)), dataCrc, "data CRC");
            out.add(data);
        }
        return out;
    }

    /** Event -> {wall_time, step, file_version, Scalar(summary value)}; fails on unexpected fields. */
    static Object[] decodeEvent(byte[] data) {
        Object[] e = new Object[4];
        e[1] = 0L;
        Reader r = new Reader(data);
        while (r.more()) {
            long tag = r.varint();
            int field = (int) (tag >>> 3), wire = (int) (tag & 7);
            switch (field) {
                case 1 -> { assertEquals(1, wire); e[0] = Double.longBitsToDouble(r.fixed64()); }
                case 2 -> { assertEquals(0, wire); e[1] = r.varint(); }
                case 3 -> { assertEquals(2, wire); e[2] = new String(r.bytes(), StandardCharsets.UTF_8); }
                case 5 -> { assertEquals(2, wire); e[3] = decodeSummary(r.bytes()); }
                default -> fail("unexpected Event field " + field);
            }
        }
        return e;
    }

    static Scalar decodeSummary(byte[] data) {
        Reader r = new Reader(data);
        Scalar s = null;
        while (r.more()) {
            long tag = r.varint();
            assertEquals((1 << 3) | 2, tag, "Summary.value");
            assertNull(s, "one value per summary");
            Reader v = new Reader(r.bytes());
            String name = null;
            Float value = null;
            while (v.more()) {
                long t = v.varint();
                if (t == ((1 << 3) | 2)) name = new String(v.bytes(), StandardCharsets.UTF_8);
                else if (t == ((2 << 3) | 5)) value = Float.intBitsToFloat(v.fixed32());
                else fail("unexpected Summary.Value tag " + t);
            }
            assertNotNull(name);
            assertNotNull(value);
            s = new Scalar(0, 0, name, value);
        }
        return s;
    }

    static final class Reader {
        final ByteArrayInputStream in;

        Reader(byte[] b) {
            in = new ByteArrayInputStream(b);
        }

        boolean more() {
            return in.available() > 0;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                int b = in.read();
                assertTrue(b >= 0 && shift < 70, "truncated varint");
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
        }

        long fixed64() {
            long v = 0;
            for (int i = 0; i < 8; i++) v |= (long) in.read() << (8 * i);
            return v;
        }

        int fixed32() {
            int v = 0;
            for (int i = 0; i < 4; i++) v |= in.read() << (8 * i);
            return v;
        }

        byte[] bytes() {
            int len = (int) varint();
            byte[] b = new byte[len];
            assertEquals(len, Math.max(0, in.read(b, 0, len)), "truncated field");
            return b;
        }
    }
}
