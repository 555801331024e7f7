package org.mambavision.engine.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes pickle opcodes by hand (protocol 2, as torch.save does) and torch.save-style zip archives, for tests. */
final class PickleBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBuilder() {
        op(0x80).op(2); // PROTO 2
    }

    PickleBuilder op(int b) {
        out.write(b);
        return this;
    }

    PickleBuilder raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    PickleBuilder mark() { return op('('); }
    PickleBuilder tuple() { return op('t'); }
    PickleBuilder tuple1() { return op(0x85); }
    PickleBuilder emptyTuple() { return op(')'); }
    PickleBuilder emptyDict() { return op('}'); }
    PickleBuilder setItem() { return op('s'); }
    PickleBuilder setItems() { return op('u'); }
    PickleBuilder reduce() { return op('R'); }
    PickleBuilder build() { return op('b'); }
    PickleBuilder binPersId() { return op('Q'); }
    PickleBuilder newFalse() { return op(0x89); }
    PickleBuilder none() { return op('N'); }
    PickleBuilder stop() { return op('.'); }

    PickleBuilder global(String module, String name) {
        op('c');
        return raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    PickleBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        for (int i = 0; i < 4; i++) op((b.length >>> (8 * i)) & 0xFF);
        return raw(b);
    }

    PickleBuilder integer(int v) {
        op('J');
        for (int i = 0; i < 4; i++) op((v >>> (8 * i)) & 0xFF);
        return this;
    }

    PickleBuilder ints(int... vs) {
        mark();
        for (int v : vs) integer(v);
        return tuple();
    }

    /** Pushes _rebuild_tensor_v2(storage(type, key, numel), offset, size, stride, False, OrderedDict()). */
    PickleBuilder tensor(String storageType, String key, int storageNumel, int offset, int[] size, int[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(storageNumel).tuple().binPersId();
        integer(offset).ints(size).ints(stride).newFalse();
        global("collections", "OrderedDict").emptyTuple().reduce();
        tuple();
        return reduce();
    }

    /** Pushes os.system(command): a call that a real unpickler would run. */
    PickleBuilder osSystem(String command) {
        return global("os", "system").str(command).tuple1().reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A torch.save-style archive: archive/data.pkl, archive/byteorder and archive/data/<key> for each blob. */
    static void writeTorchZip(Path file, byte[] pickle, Map<String, byte[]> blobs) throws IOException {
        try (OutputStream fo = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(fo)) {
            zip.setLevel(Deflater.NO_COMPRESSION); // fast to write many times in the fuzz tests
            put(zip, "archive/data.pkl", pickle);
            put(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> b : blobs.entrySet()) put(zip, "archive/data/" + b.getKey(), b.getValue());
            put(zip, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }
}
