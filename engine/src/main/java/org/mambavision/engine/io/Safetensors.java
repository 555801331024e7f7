package org.mambavision.engine.io;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mambavision.engine.Tensor;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data.
 *
 * <p>{@link #open} memory-maps the file read-only (any size) and validates the whole header before returning, so a
 * truncated or hostile file fails there with a {@link CheckpointFormatException}, never later. Readers are safe to
 * use from several threads; {@link #close} releases the mapping, after which accessors throw
 * {@link IllegalStateException}.
 */
public final class Safetensors implements AutoCloseable {
    /** Headers above this size are refused (the official library uses the same cap). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    private record Entry(String name, DType dtype, int[] shape, long numel, long begin, long end) {}

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private Safetensors(Path file, Arena arena, MemorySegment mapped, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    // ---- reading ---------------------------------------------------------------------------

    /** Maps and validates {@code file}. Every problem with its content is a {@link CheckpointFormatException}. */
    public static Safetensors open(Path file) throws IOException {
        WeightFiles.requireNotDirectory(file, "a safetensors file");
        FileProbe.requireFile(file, "a safetensors file");
        String text = FileProbe.textStart(file);
        if (text != null) throw new CheckpointFormatException(file, "is a text file (it starts " + text + "), not a safetensors file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 8) throw new CheckpointFormatException(file, "file of " + size + " bytes is too short for a safetensors header");
                seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            long size = seg.byteSize();
            long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen == 0) throw new CheckpointFormatException(file, "header length is 0");
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(headerLen)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (file size " + size + ")");
            }
            if (8 + headerLen > size) {
                throw new CheckpointFormatException(file, "header length " + headerLen + " is beyond the file size " + size + " (truncated file?)");
            }
            byte[] headerBytes = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            String header;
            try {
                header = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(headerBytes)).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointFormatException(file, "header is not valid UTF-8");
            }
            long dataStart = 8 + headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = parseHeader(file, header, size - dataStart, metadata);
            return new Safetensors(file, arena, seg, dataStart, entries, Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Entry> parseHeader(Path file, String header, long dataLen, Map<String, String> metadataOut)
            throws CheckpointFormatException {
        Object root;
        try {
            root = Json.parse(header);
        } catch (Json.ParseException e) {
            throw new CheckpointFormatException(file, "header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) throw new CheckpointFormatException(file, "header is not a JSON object");
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : top.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(kv.getValue() instanceof Map<?, ?> meta)) throw new CheckpointFormatException(file, METADATA_KEY + " is not an object");
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw new CheckpointFormatException(file, METADATA_KEY + " value of \"" + m.getKey() + "\" is not a string");
                    }
                    metadataOut.put((String) m.getKey(), v);
                }
                continue;
            }
            entries.put(name, parseEntry(file, name, kv.getValue(), dataLen));
        }
        // Entries may leave gaps but must not share bytes.
        List<Entry> byBegin = new ArrayList<>(entries.values());
        byBegin.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : byBegin) {
            if (e.begin == e.end) continue;
            if (prev != null && e.begin < prev.end) {
                throw new CheckpointFormatException(file, "tensor '" + e.name + "' bytes [" + e.begin + ", " + e.end
                        + ") overlap tensor '" + prev.name + "' bytes [" + prev.begin + ", " + prev.end + ")");
            }
            prev = e;
        }
        return entries;
    }

    private static Entry parseEntry(Path file, String name, Object value, long dataLen) throws CheckpointFormatException {
        String where = "tensor '" + name + "'";
        if (!(value instanceof Map<?, ?> info)) throw new CheckpointFormatException(file, where + ": entry is not an object");
        if (!(info.get("dtype") instanceof String dtypeName)) throw new CheckpointFormatException(file, where + ": missing dtype");
        DType dtype = DType.ofName(dtypeName);
        if (dtype == null) {
            throw new CheckpointFormatException(file, where + ": unsupported dtype \"" + dtypeName + "\" (supported: " + Arrays.toString(DType.values()) + ")");
        }
        if (!(info.get("shape") instanceof List<?> shapeList)) throw new CheckpointFormatException(file, where + ": missing shape");
        int[] shape = new int[shapeList.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            Object d = shapeList.get(i);
            if (!(d instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
                throw new CheckpointFormatException(file, where + ": shape " + shapeList + " is not a list of non-negative ints");
            }
            shape[i] = (int) (long) l;
            numel = multiplyOrFail(file, where, numel, l, shapeList);
        }
        long nbytes = multiplyOrFail(file, where, numel, dtype.size, shapeList);
        if (!(info.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end) || begin < 0 || end < 0) {
            throw new CheckpointFormatException(file, where + ": data_offsets " + info.get("data_offsets") + " is not [begin, end]");
        }
        if (begin > end) throw new CheckpointFormatException(file, where + ": data_offsets begin " + begin + " > end " + end);
        if (end - begin != nbytes) {
            throw new CheckpointFormatException(file, where + ": data_offsets span " + (end - begin) + " bytes but shape "
                    + shapeList + " of " + dtypeName + " needs " + nbytes);
        }
        if (end > dataLen) {
            throw new CheckpointFormatException(file, where + ": data_offsets end " + end + " is beyond the data section of " + dataLen + " bytes");
        }
        return new Entry(name, dtype, shape, numel, begin, end);
    }

    private static long multiplyOrFail(Path file, String where, long a, long b, List<?> shape) throws CheckpointFormatException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, where + ": shape " + shape + " is too large");
        }
    }

    public Path file() {
        return file;
    }

    /** Tensor names in file order. */
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    /** The stored dtype name: F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL. */
    public String dtype(String name) {
        return entry(name).dtype.name();
    }

    public int[] shape(String name) {
        return entry(name).shape.clone();
    }

    /** The {@code __metadata__} string map (empty if absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor as float32, whatever its stored dtype (F16/BF16 exact, F64 rounded, integers as float values). */
    public Tensor tensor(String name) {
        Entry e = entry(name);
        int n = checkedNumel(e);
        if (e.shape.length > Tensor.MAX_RANK) throw new IllegalArgumentException(file + ": tensor '" + name + "' has rank " + e.shape.length + " > " + Tensor.MAX_RANK);
        float[] out = new float[n];
        e.dtype.toFloats(mapped, dataStart + e.begin, ByteOrder.LITTLE_ENDIAN, out, 0, n);
        return Tensor.of(out, e.shape);
    }

    /** All tensors as float32, in file order. */
    public Map<String, Tensor> tensors() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (String name : entries.keySet()) all.put(name, tensor(name));
        return all;
    }

    /** Raw values of an integer tensor (I64, I32, I16, I8, U8, BOOL), flattened row-major. */
    public long[] longs(String name) {
        Entry e = entry(name);
        if (e.dtype.floating) throw new IllegalArgumentException(file + ": tensor '" + name + "' is " + e.dtype + ", not an integer dtype");
        long[] out = new long[checkedNumel(e)];
        long base = dataStart + e.begin;
        if (e.dtype == DType.I64) {
            MemorySegment.copy(mapped, ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), base, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = e.dtype.readLong(mapped, base + (long) i * e.dtype.size, ByteOrder.LITTLE_ENDIAN);
        }
        return out;
    }

    /** Values of a floating tensor (F64 exact; F32, F16, BF16 widened), flattened row-major. */
    public double[] doubles(String name) {
        Entry e = entry(name);
        if (!e.dtype.floating) throw new IllegalArgumentException(file + ": tensor '" + name + "' is " + e.dtype + ", not a floating dtype");
        double[] out = new double[checkedNumel(e)];
        long base = dataStart + e.begin;
        for (int i = 0; i < out.length; i++) out[i] = e.dtype.readDouble(mapped, base + (long) i * e.dtype.size, ByteOrder.LITTLE_ENDIAN);
        return out;
    }

    private int checkedNumel(Entry e) {
        if (e.numel > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(file + ": tensor '" + e.name + "' has " + e.numel + " elements, too many for one array");
        return (int) e.numel;
    }

    private Entry entry(String name) {
        if (!arena.scope().isAlive()) throw new IllegalStateException(file + ": already closed");
        Entry e = entries.get(name);
        if (e == null) {
            List<String> some = entries.keySet().stream().limit(8).toList();
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "' (" + entries.size() + " tensors, e.g. " + some + ")");
        }
        return e;
    }

    /** Releases the mapping. Idempotent. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "Safetensors[" + file + ", " + entries.size() + " tensors]";
    }

    // ---- writing ---------------------------------------------------------------------------

    /** Writes all tensors as F32, atomically (see {@link AtomicFiles}). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        write(file, tensors, Set.of(), metadata);
    }

    /**
     * Writes the tensors named in {@code asInt64} as I64 (values rounded to the nearest integer; PyTorch stores
     * BatchNorm {@code num_batches_tracked} so) and all others as F32, atomically.
     *
     * <p>The header lists entries in map order and is padded with spaces to a multiple of 8, as the official library
     * does. The data section is contiguous; I64 tensors come first in it so that every element is aligned to its size
     * (PyTorch refuses to view misaligned bytes as int64).
     */
    public static void write(Path file, Map<String, Tensor> tensors, Set<String> asInt64, Map<String, String> metadata) throws IOException {
        for (String n : asInt64) {
            if (!tensors.containsKey(n)) throw new IllegalArgumentException("Safetensors.write: asInt64 names '" + n + "', which is not among the tensors");
        }
        if (tensors.containsKey(METADATA_KEY)) throw new IllegalArgumentException("Safetensors.write: '" + METADATA_KEY + "' is reserved");
        List<String> dataOrder = new ArrayList<>();
        for (String n : tensors.keySet()) if (asInt64.contains(n)) dataOrder.add(n);
        for (String n : tensors.keySet()) if (!asInt64.contains(n)) dataOrder.add(n);
        Map<String, long[]> offsets = new LinkedHashMap<>();
        long pos = 0;
        for (String n : dataOrder) {
            long bytes = (long) tensors.get(n).numel() * (asInt64.contains(n) ? 8 : 4);
            offsets.put(n, new long[] {pos, pos + bytes});
            pos += bytes;
        }

        StringBuilder h = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            h.append(Json.quote(METADATA_KEY)).append(":{");
            boolean first = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (!first) h.append(',');
                first = false;
                h.append(Json.quote(m.getKey())).append(':').append(Json.quote(m.getValue()));
            }
            h.append('}');
        }
        for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
            if (h.length() > 1) h.append(',');
            long[] off = offsets.get(t.getKey());
            h.append(Json.quote(t.getKey())).append(":{\"dtype\":\"").append(asInt64.contains(t.getKey()) ? "I64" : "F32")
                    .append("\",\"shape\":[");
            int[] shape = t.getValue().shape();
            for (int i = 0; i < shape.length; i++) h.append(i > 0 ? "," : "").append(shape[i]);
            h.append("],\"data_offsets\":[").append(off[0]).append(',').append(off[1]).append("]}");
        }
        h.append('}');
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');

        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(header);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (String n : dataOrder) writeData(out, buf, tensors.get(n).data, asInt64.contains(n));
        });
    }

    private static void writeData(OutputStream out, ByteBuffer buf, float[] data, boolean asInt64) throws IOException {
        int perChunk = buf.capacity() / (asInt64 ? 8 : 4);
        for (int done = 0; done < data.length; done += perChunk) {
            int m = Math.min(perChunk, data.length - done);
            buf.clear();
            if (asInt64) {
                for (int i = 0; i < m; i++) buf.putLong(Math.round((double) data[done + i]));
            } else {
                buf.asFloatBuffer().put(data, done, m);
                buf.position(m * 4);
            }
            out.write(buf.array(), 0, buf.position());
        }
    }
}
