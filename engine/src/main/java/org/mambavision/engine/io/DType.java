package org.mambavision.engine.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Element types of weight files, with their conversion to float32 / long / double. */
enum DType {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false), U8(1, false), BOOL(1, false);

    final int size;
    final boolean floating;

    DType(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    /** The dtype named as in a safetensors header, or null if unknown. */
    static DType ofName(String name) {
        for (DType d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** Elements converted per bulk copy: bounds the temporary arrays for huge tensors. */
    private static final int CHUNK = 1 << 16;

    /**
     * Converts {@code n} elements starting at {@code byteOffset} of {@code src} to float32 into {@code dst[dstOff..]}.
     * F16 and BF16 are exact, F64 rounds to nearest, integers become their (rounded) float values.
     */
    void toFloats(MemorySegment src, long byteOffset, ByteOrder order, float[] dst, int dstOff, int n) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order), byteOffset, dst, dstOff, n);
            case F64 -> {
                double[] tmp = new double[Math.min(n, CHUNK)];
                for (int done = 0; done < n; done += tmp.length) {
                    int m = Math.min(tmp.length, n - done);
                    MemorySegment.copy(src, ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order), byteOffset + (long) done * 8, tmp, 0, m);
                    for (int i = 0; i < m; i++) dst[dstOff + done + i] = (float) tmp[i];
                }
            }
            case F16, BF16, I16 -> {
                short[] tmp = new short[Math.min(n, CHUNK)];
                for (int done = 0; done < n; done += tmp.length) {
                    int m = Math.min(tmp.length, n - done);
                    MemorySegment.copy(src, ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), byteOffset + (long) done * 2, tmp, 0, m);
                    int o = dstOff + done;
                    if (this == F16) for (int i = 0; i < m; i++) dst[o + i] = Float.float16ToFloat(tmp[i]);
                    else if (this == BF16) for (int i = 0; i < m; i++) dst[o + i] = Float.intBitsToFloat(tmp[i] << 16);
                    else for (int i = 0; i < m; i++) dst[o + i] = tmp[i];
                }
            }
            default -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = (float) readLong(src, byteOffset + (long) i * size, order);
            }
        }
    }

    /** One element as float32 (same conversions as {@link #toFloats}). */
    float readFloat(MemorySegment src, long byteOffset, ByteOrder order) {
        return switch (this) {
            case F32 -> src.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order), byteOffset);
            case F64 -> (float) src.get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order), byteOffset);
            case F16 -> Float.float16ToFloat(src.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), byteOffset));
            case BF16 -> Float.intBitsToFloat(src.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), byteOffset) << 16);
            default -> (float) readLong(src, byteOffset, order);
        };
    }

    /** One integer element (only for integer dtypes). */
    long readLong(MemorySegment src, long byteOffset, ByteOrder order) {
        return switch (this) {
            case I64 -> src.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order), byteOffset);
            case I32 -> src.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(order), byteOffset);
            case I16 -> src.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order), byteOffset);
            case I8 -> src.get(ValueLayout.JAVA_BYTE, byteOffset);
            case U8 -> src.get(ValueLayout.JAVA_BYTE, byteOffset) & 0xFF;
            case BOOL -> src.get(ValueLayout.JAVA_BYTE, byteOffset) != 0 ? 1 : 0;
            default -> throw new IllegalStateException(this + " is not an integer dtype");
        };
    }

    /** One floating element as double (only for floating dtypes). */
    double readDouble(MemorySegment src, long byteOffset, ByteOrder order) {
        return this == F64 ? src.get(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order), byteOffset) : readFloat(src, byteOffset, order);
    }
}
