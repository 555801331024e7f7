package org.mambavision.engine.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.io.Unpickler.PyDict;
import org.mambavision.engine.io.Unpickler.StorageRef;
import org.mambavision.engine.io.Unpickler.TensorRef;
import org.mambavision.engine.io.Unpickler.UnsupportedTensor;

/**
 * Reads the state dict of a {@code torch.save} zip archive ({@code .pth}, {@code .pth.tar}, {@code .pt}, PyTorch 1.6+),
 * such as NVIDIA's published MambaVision checkpoints, without running any code from it (see {@link Unpickler}).
 *
 * <p>The archive holds {@code <prefix>/data.pkl} (the pickled object), {@code <prefix>/data/<key>} (raw storages) and
 * optionally {@code <prefix>/byteorder}. The state dict is {@code checkpoint['state_dict']} if that is a dict, else
 * {@code checkpoint['model']}, else the top-level object, as the official loader does; only its tensor entries are kept
 * (optimizer state, epoch, argparse namespaces etc. are ignored). Every tensor becomes float32.
 */
public final class TorchCheckpoint {
    /** data.pkl above this size is refused (state-dict pickles are a few MB at most). */
    static final int MAX_PICKLE_BYTES = 256 << 20;

    private static final int READ_CHUNK = 1 << 20;

    private TorchCheckpoint() {}

    /**
     * The state dict's tensors as float32, in file order, with leading {@code module.}/{@code model.}/{@code encoder.}
     * stripped as {@link WeightFiles#stripPrefixes} does.
     */
    public static Map<String, Tensor> readStateDict(Path file) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException | RuntimeException e) {
            throw new CheckpointFormatException(file, "not a torch.save zip archive (" + e.getMessage() + ")");
        }
        try (zip) {
            String prefix = findPrefix(zip, file);
            ByteOrder order = byteOrder(zip, prefix, file);
            byte[] pickle = readSmallEntry(zip, prefix + "data.pkl", file);
            Object root;
            try {
                root = new Unpickler(pickle).load();
            } catch (Unpickler.PickleException e) {
                throw new CheckpointFormatException(file, prefix + "data.pkl: " + e.getMessage());
            }
            Map<Object, Object> stateDict = findStateDict(root, file);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<Object, Object> e : stateDict.entrySet()) {
                if (!(e.getKey() instanceof String name)) continue;
                if (e.getValue() instanceof UnsupportedTensor u) {
                    throw new CheckpointFormatException(file, "tensor '" + name + "' has unsupported storage type " + u.storageType());
                }
                if (e.getValue() instanceof TensorRef t) out.put(name, materialize(zip, prefix, order, name, t, file));
            }
            return WeightFiles.stripPrefixes(out);
        } catch (ZipException | EOFException | RuntimeException e) {
            throw new CheckpointFormatException(file, "corrupt zip archive: " + e, e);
        }
    }

    /** The single top folder holding data.pkl ("" if data.pkl is at the root). */
    private static String findPrefix(ZipFile zip, Path file) throws CheckpointFormatException {
        List<String> found = new ArrayList<>();
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
            String name = entries.nextElement().getName();
            if (name.equals("data.pkl")) found.add("");
            else if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                found.add(name.substring(0, name.length() - "data.pkl".length()));
            }
        }
        if (found.isEmpty()) throw new CheckpointFormatException(file, "zip archive has no <folder>/data.pkl: not a torch.save checkpoint");
        if (found.size() > 1) throw new CheckpointFormatException(file, "zip archive has several data.pkl entries " + found);
        return found.get(0);
    }

    private static ByteOrder byteOrder(ZipFile zip, String prefix, Path file) throws IOException {
        if (zip.getEntry(prefix + "byteorder") == null) return ByteOrder.LITTLE_ENDIAN;
        String s = new String(readSmallEntry(zip, prefix + "byteorder", file), StandardCharsets.US_ASCII).strip();
        return switch (s) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new CheckpointFormatException(file, prefix + "byteorder is neither 'little' nor 'big'");
        };
    }

    private static byte[] readSmallEntry(ZipFile zip, String name, Path file) throws IOException {
        ZipEntry e = zip.getEntry(name);
        if (e == null) throw new CheckpointFormatException(file, "zip entry " + name + " is missing");
        if (e.getSize() > MAX_PICKLE_BYTES) throw new CheckpointFormatException(file, name + " is " + e.getSize() + " bytes, above the limit");
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(MAX_PICKLE_BYTES + 1);
            if (b.length > MAX_PICKLE_BYTES) throw new CheckpointFormatException(file, name + " is above the limit of " + MAX_PICKLE_BYTES + " bytes");
            if (e.getSize() >= 0 && b.length != e.getSize()) {
                throw new CheckpointFormatException(file, name + " has " + b.length + " bytes, the archive says " + e.getSize());
            }
            return b;
        }
    }

    private static Map<Object, Object> findStateDict(Object root, Path file) throws CheckpointFormatException {
        if (!(root instanceof PyDict top)) {
            throw new CheckpointFormatException(file, "no state dict found: the pickled object is a " + Unpickler.describe(root) + ", not a dict of tensors");
        }
        Map<Object, Object> chosen = top.map;
        if (top.map.get("state_dict") instanceof PyDict sd) chosen = sd.map;
        else if (top.map.get("model") instanceof PyDict m) chosen = m.map;
        for (Object v : chosen.values()) if (v instanceof TensorRef || v instanceof UnsupportedTensor) return chosen;
        List<String> keys = new ArrayList<>();
        for (Object k : top.map.keySet()) if (keys.size() < 10) keys.add(Unpickler.describe(k));
        throw new CheckpointFormatException(file, "no state dict found: no tensors under 'state_dict', 'model' or the top level (top-level keys " + keys + ")");
    }

    /** Reads one tensor's elements from its storage blob, converting to float32 (general strides gathered). */
    private static Tensor materialize(ZipFile zip, String prefix, ByteOrder order, String name, TensorRef t, Path file) throws IOException {
        String where = "tensor '" + name + "'";
        StorageRef s = t.storage();
        DType dt = s.dtype();
        int rank = t.size().length;
        if (rank > Tensor.MAX_RANK) throw new CheckpointFormatException(file, where + " has rank " + rank + " > " + Tensor.MAX_RANK);
        long numel = 1, lastIndex = t.offset();
        try {
            for (int i = 0; i < rank; i++) {
                numel = Math.multiplyExact(numel, t.size()[i]);
                if (t.size()[i] > 0) lastIndex = Math.addExact(lastIndex, Math.multiplyExact(t.size()[i] - 1L, t.stride()[i]));
            }
            Math.multiplyExact(s.numel(), dt.size);
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, where + " has sizes or strides too large");
        }
        if (numel > Integer.MAX_VALUE - 16) throw new CheckpointFormatException(file, where + " has " + numel + " elements, too many for one array");
        if (numel == 0) return Tensor.zeros(t.size());
        if (lastIndex >= s.numel()) {
            throw new CheckpointFormatException(file, where + " reaches element " + lastIndex + " of storage " + s.key()
                    + ", which has only " + s.numel() + " elements");
        }
        String entryName = prefix + "data/" + s.key();
        ZipEntry e = zip.getEntry(entryName);
        if (e == null) throw new CheckpointFormatException(file, where + ": storage blob " + entryName + " is missing");
        long storageBytes = s.numel() * dt.size;
        if (e.getSize() >= 0 && e.getSize() < storageBytes) {
            throw new CheckpointFormatException(file, where + ": storage blob " + entryName + " has " + e.getSize()
                    + " bytes, but its storage declares " + s.numel() + " elements of " + dt + " (" + storageBytes + " bytes)");
        }
        // Only now, with the bounds checked against the archive, allocate (a compressed blob can declare huge sizes).
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (numel * 4 > available) {
            throw new CheckpointFormatException(file, where + " needs " + numel * 4 + " bytes, more than the " + available + " bytes of heap left");
        }
        float[] out = new float[(int) numel];
        try (InputStream in = zip.getInputStream(e)) {
            in.skipNBytes(t.offset() * dt.size);
            if (isContiguous(t.size(), t.stride())) {
                byte[] chunk = new byte[(int) Math.min(READ_CHUNK, numel * dt.size)];
                int perChunk = chunk.length / dt.size;
                for (int done = 0; done < numel; done += perChunk) {
                    int m = (int) Math.min(perChunk, numel - done);
                    readFully(in, chunk, m * dt.size, file, where, entryName);
                    dt.toFloats(MemorySegment.ofArray(chunk), 0, order, out, done, m);
                }
            } else {
                long spanBytes = (lastIndex - t.offset() + 1) * dt.size;
                if (spanBytes > Integer.MAX_VALUE - 16) throw new CheckpointFormatException(file, where + ": strided view spans too many bytes");
                byte[] span = new byte[(int) spanBytes];
                readFully(in, span, span.length, file, where, entryName);
                gather(dt, MemorySegment.ofArray(span), order, t.size(), t.stride(), out);
            }
        } catch (EOFException eof) {
            throw new CheckpointFormatException(file, where + ": storage blob " + entryName + " ends early");
        }
        return Tensor.of(out, t.size());
    }

    private static void readFully(InputStream in, byte[] buf, int n, Path file, String where, String entryName) throws IOException {
        if (in.readNBytes(buf, 0, n) != n) throw new CheckpointFormatException(file, where + ": storage blob " + entryName + " ends early");
    }

    /** Row-major contiguous, ignoring the stride of size-1 dimensions (PyTorch does the same). */
    static boolean isContiguous(int[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    /** out[row-major index] = element at sum(idx[i] * stride[i]) of {@code src}. */
    private static void gather(DType dt, MemorySegment src, ByteOrder order, int[] size, long[] stride, float[] out) {
        int rank = size.length;
        int[] idx = new int[rank];
        long elem = 0;
        for (int o = 0; o < out.length; o++) {
            out[o] = dt.readFloat(src, elem * dt.size, order);
            for (int d = rank - 1; d >= 0; d--) { // odometer increment
                idx[d]++;
                elem += stride[d];
                if (idx[d] < size[d]) break;
                elem -= stride[d] * size[d];
                idx[d] = 0;
            }
        }
    }
}
