package org.mambavision.engine.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Golden;
import org.mambavision.engine.Tensor;

class SafetensorsTest {
    @TempDir Path tmp;

    private static Path golden(String name) {
        Path g = Golden.dirOrNull();
        Assumptions.assumeTrue(g != null, "no ../shared/golden");
        return g.resolve("mini").resolve(name);
    }

    // ---- golden files ------------------------------------------------------------------------

    @Test
    void readsGoldenWeights() throws IOException {
        try (Safetensors st = Safetensors.open(golden("weights.safetensors"))) {
            assertEquals(125, st.names().size()); // 126 header keys minus __metadata__
            assertEquals("pt", st.metadata().get("format"));
            String first = st.names().iterator().next();
            assertEquals("patch_embed.conv_down.0.weight", first, "names keep file order");
            assertEquals("F32", st.dtype(first));
            assertArrayEquals(new int[] {8, 3, 3, 3}, st.shape(first));
            Tensor w = st.tensor(first);
            assertArrayEquals(new int[] {8, 3, 3, 3}, w.shape());
            assertEquals(216, w.numel());
            String nbt = "patch_embed.conv_down.1.num_batches_tracked";
            assertEquals("I64", st.dtype(nbt));
            // The golden file stores it with shape [1]; torch.save keeps PyTorch's rank-0 shape [].
            assertArrayEquals(new int[] {1}, st.shape(nbt));
            long[] n = st.longs(nbt);
            assertEquals(1, n.length);
            assertEquals((float) n[0], st.tensor(nbt).item());
            assertArrayEquals(toDoubles(w.data), st.doubles(first));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> st.tensor("nope"));
            assertTrue(e.getMessage().contains("nope") && e.getMessage().contains(first), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> st.longs(first));
            assertThrows(IllegalArgumentException.class, () -> st.doubles(nbt));
        }
    }

    @Test
    void halfPrecisionWeightsConvertExactly() throws IOException {
        Map<String, Tensor> f32;
        try (Safetensors st = Safetensors.open(golden("weights.safetensors"))) {
            f32 = st.tensors();
        }
        for (String variant : List.of("weights_f16.safetensors", "weights_bf16.safetensors")) {
            boolean bf16 = variant.contains("bf16");
            try (Safetensors st = Safetensors.open(golden(variant))) {
                assertEquals(f32.keySet(), st.names(), variant);
                double diff = 0, norm = 0;
                int checked = 0;
                for (String name : st.names()) {
                    Tensor ref = f32.get(name), t = st.tensor(name);
                    assertArrayEquals(ref.shape(), t.shape(), name);
                    if (st.dtype(name).equals("I64")) {
                        assertArrayEquals(ref.data, t.data, name);
                        continue;
                    }
                    assertEquals(bf16 ? "BF16" : "F16", st.dtype(name));
                    for (int i = 0; i < ref.numel(); i++) {
                        float x = ref.data[i];
                        // The file holds x rounded to nearest even; decoding must give that value exactly.
                        float expected = bf16 ? roundToBf16(x) : Float.float16ToFloat(Float.floatToFloat16(x));
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(t.data[i]), name + "[" + i + "]");
                        diff += (double) (t.data[i] - x) * (t.data[i] - x);
                        norm += (double) x * x;
                        checked++;
                    }
                }
                assertTrue(checked > 600_000, "checked " + checked);
                double rel = Math.sqrt(diff / norm);
                assertTrue(rel < (bf16 ? 1e-2 : 1e-3) && rel > 0, variant + " relative error " + rel);
            }
        }
    }

    private static float roundToBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    private static double[] toDoubles(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    // ---- writing -------------------------------------------------------------------------------

    @Test
    void writeThenReadRoundTripsExactly() throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", Tensor.randn(rng, 1f, 7, 13));
        tensors.put("bn.num_batches_tracked", Tensor.scalar(12345f));
        tensors.put("scalar", Tensor.scalar(-0.0f));
        tensors.put("empty", Tensor.zeros(0, 3));
        tensors.put("big\"name\\é", Tensor.randn(rng, 3f, 2, 3, 4, 5, 6));
        tensors.put("ints", Tensor.of(new float[] {-3, 0, 7, 1e9f}, 4));
        tensors.get("a.weight").data[0] = Float.NaN;
        tensors.get("a.weight").data[1] = Float.NEGATIVE_INFINITY;
        tensors.get("a.weight").data[2] = Float.MIN_VALUE;
        Map<String, String> meta = Map.of("format", "pt", "note", "line\nbreak \"quoted\"");
        Path f = tmp.resolve("out.safetensors");
        Safetensors.write(f, tensors, Set.of("bn.num_batches_tracked", "ints"), meta);

        byte[] raw = Files.readAllBytes(f);
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8");
        String header = header(raw);
        assertTrue(header.strip().endsWith("}") && header.substring(header.strip().length()).isBlank(), "padded with spaces");
        try (Safetensors st = Safetensors.open(f)) {
            assertEquals(List.copyOf(tensors.keySet()), List.copyOf(st.names()), "map order kept");
            assertEquals(meta, st.metadata());
            assertEquals("I64", st.dtype("bn.num_batches_tracked"));
            assertArrayEquals(new long[] {12345}, st.longs("bn.num_batches_tracked"));
            assertArrayEquals(new long[] {-3, 0, 7, 1_000_000_000}, st.longs("ints"));
            assertEquals("F32", st.dtype("a.weight"));
            for (String name : tensors.keySet()) {
                Tensor a = tensors.get(name), b = st.tensor(name);
                assertArrayEquals(a.shape(), b.shape(), name);
                for (int i = 0; i < a.numel(); i++) {
                    assertEquals(Float.floatToRawIntBits(a.data[i]), Float.floatToRawIntBits(b.data[i]), name + "[" + i + "]");
                }
            }
        }
        // Without int64 entries and without metadata.
        Safetensors.write(f, Map.of("x", Tensor.scalar(2.5f)), null);
        try (Safetensors st = Safetensors.open(f)) {
            assertEquals(Set.of("x"), st.names());
            assertTrue(st.metadata().isEmpty());
            assertEquals(2.5f, st.tensor("x").item());
        }
    }

    @Test
    void int64DataIsAlignedFirst() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.zeros(3)); // 12 bytes would misalign a following int64
        tensors.put("n", Tensor.scalar(4));
        Path f = tmp.resolve("aligned.safetensors");
        Safetensors.write(f, tensors, Set.of("n"), Map.of());
        String header = header(Files.readAllBytes(f));
        assertTrue(header.contains("\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"), header);
        assertTrue(header.contains("\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}"), header);
    }

    @Test
    void atomicWriteReplacesAndLeavesNoTempFiles() throws IOException {
        Path f = tmp.resolve("w.safetensors");
        Files.writeString(f, "old content");
        Safetensors.write(f, Map.of("x", Tensor.full(1f, 5)), Map.of());
        try (Safetensors st = Safetensors.open(f)) {
            assertArrayEquals(new float[] {1, 1, 1, 1, 1}, st.tensor("x").data);
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList(), "only the target remains");
        }
        // A failing body leaves the old file and no temp file.
        assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[100]);
            throw new IOException("disk full");
        }));
        try (Safetensors st = Safetensors.open(f)) {
            assertEquals(Set.of("x"), st.names());
        }
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(f), files.toList(), "temp file deleted after a failure");
        }
        // A body that closes the stream early still gets its data forced and renamed.
        Path g = tmp.resolve("sub").resolve("log.txt");
        AtomicFiles.write(g, out -> {
            out.write("hello".getBytes(StandardCharsets.UTF_8));
            out.close();
        });
        assertEquals("hello", Files.readString(g));
    }

    // ---- hostile files -------------------------------------------------------------------------

    @Test
    void truncatedGoldenFileIsRejected() throws IOException {
        byte[] all = Files.readAllBytes(golden("weights.safetensors"));
        Path f = tmp.resolve("half.safetensors");
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        assertRejected(f, "beyond the data section");
        Files.write(f, Arrays.copyOf(all, 5000)); // cut inside the header
        assertRejected(f, "beyond the file size");
        Files.write(f, Arrays.copyOf(all, 5));
        assertRejected(f, "too short");
    }

    @Test
    void badHeaderLengthsAreRejected() throws IOException {
        assertRejected(withHeaderLength(1000, "{}"), "beyond the file size");
        assertRejected(withHeaderLength(-1, "{}"), "exceeds the limit");
        assertRejected(withHeaderLength(1L << 40, "{}"), "exceeds the limit");
        assertRejected(withHeaderLength(0, "{}"), "header length is 0");
    }

    @Test
    void badJsonIsRejected() throws IOException {
        for (String bad : List.of("{\"a\": {\"dtype\": \"F32\",", "not json", "[1, 2]", "{\"a\": 1} trailing", "{'a': 1}",
                "{\"a\":1,\"a\":2}", "{\"a\": \"\\x\"}", "{\"a\": 01}", "{\"a\": \"tab\there\"}", "[".repeat(100_000))) {
            assertRejected(safetensors(bad, new byte[0]), "");
        }
        Path f = tmp.resolve("latin1.safetensors");
        byte[] header = {'{', '"', (byte) 0xE9, '"', ':', '1', '}'};
        Files.write(f, concat(le64(header.length), header));
        assertRejected(f, "UTF-8");
        assertRejected(safetensors("{\"a\": [1, 2]}", new byte[0]), "tensor 'a'");
        assertRejected(safetensors("{\"__metadata__\": {\"k\": 1}}", new byte[0]), "__metadata__");
    }

    @Test
    void badEntriesAreRejectedNamingTheTensor() throws IOException {
        byte[] data = new byte[64];
        assertRejected(safetensors(entry("w", "F8_E4M3", "[2]", "[0, 2]"), data), "tensor 'w': unsupported dtype");
        assertRejected(safetensors(entry("w", "F32", "[4]", "[60, 76]"), data), "tensor 'w': data_offsets end 76 is beyond");
        assertRejected(safetensors(entry("w", "F32", "[4]", "[0, 12]"), data), "tensor 'w': data_offsets span 12 bytes");
        assertRejected(safetensors(entry("w", "F32", "[4]", "[16, 0]"), data), "tensor 'w': data_offsets begin 16 > end 0");
        assertRejected(safetensors(entry("w", "F32", "[4]", "[0]"), data), "tensor 'w'");
        assertRejected(safetensors(entry("w", "F32", "[-4]", "[0, 16]"), data), "tensor 'w': shape");
        assertRejected(safetensors(entry("w", "F32", "[4.5]", "[0, 16]"), data), "tensor 'w': shape");
        assertRejected(safetensors(entry("w", "F32", "[2147483647, 2147483647, 2147483647, 8]", "[0, 16]"), data), "tensor 'w': shape");
        assertRejected(safetensors(entry("w", "F32", "[4]", "[0, 99999999999999999999]"), data), "tensor 'w'");
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        assertRejected(safetensors(overlap, data), "overlap");
        // Empty tensors may share an offset; disjoint ones with a gap are fine.
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
                + "\"b\":{\"dtype\":\"I8\",\"shape\":[2,2],\"data_offsets\":[4,8]},\"c\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[20,21]}}";
        byte[] d = new byte[64];
        d[4] = -1; d[5] = 2; d[20] = (byte) 200;
        try (Safetensors st = Safetensors.open(safetensors(ok, d))) {
            assertArrayEquals(new long[] {-1, 2, 0, 0}, st.longs("b"));
            assertArrayEquals(new float[] {200}, st.tensor("c").data);
            assertEquals(0, st.tensor("a").numel());
        }
    }

    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        // A sparse file: the second tensor starts past 2^31 bytes, which a single MappedByteBuffer could not reach.
        long gap = (1L << 31) + 12;
        String h = "{\"gap\":{\"dtype\":\"U8\",\"shape\":[2," + gap / 2 + "],\"data_offsets\":[0," + gap + "]},"
                + "\"far\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" + gap + "," + (gap + 8) + "]}}";
        byte[] header = h.getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("sparse.safetensors");
        try (var raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
            raf.write(le64(header.length));
            raf.write(header);
            raf.seek(8 + header.length + gap);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(3.25f).putFloat(-1f).array());
        }
        try (Safetensors st = Safetensors.open(f)) {
            assertArrayEquals(new float[] {3.25f, -1f}, st.tensor("far").data);
            assertArrayEquals(new int[] {2, (int) (gap / 2)}, st.shape("gap"));
            assertThrows(IllegalArgumentException.class, () -> st.tensor("gap"), "too many elements for one array");
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void closedReaderRefusesAccess() throws IOException {
        Path f = tmp.resolve("c.safetensors");
        Safetensors.write(f, Map.of("x", Tensor.scalar(1)), Map.of());
        Safetensors st = Safetensors.open(f);
        st.close();
        st.close();
        assertThrows(IllegalStateException.class, () -> st.tensor("x"));
    }

    @Test
    void randomGarbageIsRejected() throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        for (int trial = 0; trial < 50; trial++) {
            byte[] junk = new byte[rng.nextInt(0, 4000)];
            for (int i = 0; i < junk.length; i++) junk[i] = (byte) rng.nextInt(256);
            Path f = tmp.resolve("junk" + trial + ".bin");
            Files.write(f, junk);
            assertRejected(f, "");
        }
    }

    @Test
    void mutatedHeadersNeverFailOtherwise() throws IOException {
        byte[] good = Files.readAllBytes(golden("weights.safetensors"));
        SplittableRandom rng = new SplittableRandom(11);
        Path f = tmp.resolve("mutated.safetensors");
        int rejected = 0;
        for (int trial = 0; trial < 150; trial++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + rng.nextInt(4); k++) b[rng.nextInt(12048)] = (byte) rng.nextInt(256);
            Files.write(f, b);
            try (Safetensors st = Safetensors.open(f)) {
                for (String n : st.names()) st.tensor(n); // must not fail once open succeeded
            } catch (CheckpointFormatException e) {
                assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
                rejected++;
            }
        }
        assertTrue(rejected > 0);
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** Opening fails with a CheckpointFormatException naming the file (and the problem, if given). */
    static void assertRejected(Path f, String problem) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> {
            try (Safetensors st = Safetensors.open(f)) {
                fail("opened " + st);
            }
        });
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        CheckpointFormatException viaLoad = assertThrows(CheckpointFormatException.class, () -> WeightFiles.load(f));
        assertTrue(viaLoad.getMessage().contains(f.getFileName().toString()), viaLoad.getMessage());
    }

    private int counter;

    private Path safetensors(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("case" + (counter++) + ".safetensors");
        Files.write(f, concat(concat(le64(h.length), h), data));
        return f;
    }

    private Path withHeaderLength(long len, String header) throws IOException {
        Path f = tmp.resolve("len" + (counter++) + ".safetensors");
        Files.write(f, concat(le64(len), header.getBytes(StandardCharsets.UTF_8)));
        return f;
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
    }

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static String header(byte[] file) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(file, 8, (int) n, StandardCharsets.UTF_8);
    }
}
