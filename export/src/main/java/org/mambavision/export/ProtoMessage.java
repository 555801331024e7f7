package org.mambavision.export;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A protobuf message assembled field by field and written with {@link CodedOutputStream}. Sizes are computed before
 * anything is written (a nested message is length-prefixed), so a large float array is written straight from the
 * {@code float[]} it lives in, never copied into a byte array of its own.
 */
final class ProtoMessage {
    private sealed interface Field permits Varint, Fixed32, Bytes, Nested, PackedLongs, RawFloats {}

    private record Varint(int number, long value) implements Field {}

    private record Fixed32(int number, float value) implements Field {}

    private record Bytes(int number, byte[] value) implements Field {}

    private record Nested(int number, ProtoMessage value) implements Field {}

    private record PackedLongs(int number, long[] values) implements Field {}

    /** float32 values written little-endian as one bytes field (ONNX raw_data). */
    private record RawFloats(int number, float[] values) implements Field {}

    private final List<Field> fields = new ArrayList<>();
    private long size = -1;

    ProtoMessage varint(int number, long value) {
        fields.add(new Varint(number, value));
        return this;
    }

    ProtoMessage float32(int number, float value) {
        fields.add(new Fixed32(number, value));
        return this;
    }

    ProtoMessage string(int number, String value) {
        fields.add(new Bytes(number, value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return this;
    }

    ProtoMessage bytes(int number, byte[] value) {
        fields.add(new Bytes(number, value));
        return this;
    }

    ProtoMessage message(int number, ProtoMessage value) {
        fields.add(new Nested(number, value));
        return this;
    }

    ProtoMessage packedLongs(int number, long[] values) {
        fields.add(new PackedLongs(number, values));
        return this;
    }

    ProtoMessage rawFloats(int number, float[] values) {
        fields.add(new RawFloats(number, values));
        return this;
    }

    /** Serialized size in bytes (without this message's own tag and length). */
    long size() {
        if (size >= 0) return size;
        long s = 0;
        for (Field f : fields) {
            s += switch (f) {
                case Varint v -> CodedOutputStream.computeInt64Size(v.number, v.value);
                case Fixed32 v -> CodedOutputStream.computeFloatSize(v.number, v.value);
                case Bytes v -> CodedOutputStream.computeByteArraySize(v.number, v.value);
                case Nested v -> delimited(v.number, v.value.size());
                case PackedLongs v -> delimited(v.number, packedSize(v.values));
                case RawFloats v -> delimited(v.number, 4L * v.values.length);
            };
        }
        size = s;
        return s;
    }

    private static long delimited(int number, long length) {
        return CodedOutputStream.computeTagSize(number) + CodedOutputStream.computeUInt64SizeNoTag(length) + length;
    }

    private static long packedSize(long[] values) {
        long s = 0;
        for (long v : values) s += CodedOutputStream.computeInt64SizeNoTag(v);
        return s;
    }

    void writeTo(CodedOutputStream out) throws IOException {
        for (Field f : fields) {
            switch (f) {
                case Varint v -> out.writeInt64(v.number, v.value);
                case Fixed32 v -> out.writeFloat(v.number, v.value);
                case Bytes v -> out.writeByteArray(v.number, v.value);
                case Nested v -> {
                    out.writeTag(v.number, 2);
                    out.writeUInt64NoTag(v.value.size());
                    v.value.writeTo(out);
                }
                case PackedLongs v -> {
                    out.writeTag(v.number, 2);
                    out.writeUInt64NoTag(packedSize(v.values));
                    for (long x : v.values) out.writeInt64NoTag(x);
                }
                case RawFloats v -> {
                    out.writeTag(v.number, 2);
                    out.writeUInt64NoTag(4L * v.values.length);
                    writeFloatsLittleEndian(out, v.values);
                }
            }
        }
    }

    /** Writes floats little-endian through a small reused buffer. */
    static void writeFloatsLittleEndian(CodedOutputStream out, float[] values) throws IOException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; ) {
            int n = Math.min(values.length - i, buf.capacity() / 4);
            buf.clear();
            buf.asFloatBuffer().put(values, i, n);
            out.writeRawBytes(buf.array(), 0, 4 * n);
            i += n;
        }
    }
}
