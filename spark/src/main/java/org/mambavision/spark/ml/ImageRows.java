package org.mambavision.spark.ml;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.Serializable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.mambavision.inference.image.Images;

/**
 * Reads the image of a row: a struct of Spark's image data source (ImageSchema: origin, height, width, nChannels,
 * mode, data as row-major BGR, BGRA or grey bytes) or encoded file bytes (binaryFile's {@code content}), decoded
 * with the pixel limit checked from the header first.
 */
final class ImageRows implements Serializable {
    private static final long serialVersionUID = 1L;

    /** How the input column holds images. */
    enum Kind { IMAGE_STRUCT, ENCODED_BYTES }

    private final int column, pathColumn;
    private final Kind kind;
    private final long maxPixels;

    private ImageRows(int column, Kind kind, int pathColumn, long maxPixels) {
        this.column = column;
        this.kind = kind;
        this.pathColumn = pathColumn;
        this.maxPixels = maxPixels;
    }

    /** The reader for {@code inputCol} of {@code schema}; an IllegalArgumentException naming the column when it holds no images. */
    static ImageRows of(StructType schema, String inputCol, long maxPixels) {
        return new ImageRows(schema.fieldIndex(checkedColumn(schema, inputCol)), kindOf(schema, inputCol), indexOrMinus1(schema, "path"), maxPixels);
    }

    private static String checkedColumn(StructType schema, String inputCol) {
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(inputCol)) {
            throw new IllegalArgumentException("input column '" + inputCol + "' not found; the columns are " + String.join(", ", schema.fieldNames()));
        }
        return inputCol;
    }

    static Kind kindOf(StructType schema, String inputCol) {
        DataType t = schema.apply(checkedColumn(schema, inputCol)).dataType();
        if (t instanceof BinaryType) return Kind.ENCODED_BYTES;
        if (t instanceof StructType s) {
            java.util.List<String> names = java.util.Arrays.asList(s.fieldNames());
            if (names.containsAll(java.util.List.of("height", "width", "nChannels", "data"))) return Kind.IMAGE_STRUCT;
        }
        throw new IllegalArgumentException("input column '" + inputCol + "' is " + t.simpleString()
                + "; expected Spark's image struct (spark.read.format(\"image\")) or binary file bytes (spark.read.format(\"binaryFile\"), column content)");
    }

    private static int indexOrMinus1(StructType schema, String name) {
        return java.util.Arrays.asList(schema.fieldNames()).contains(name) ? schema.fieldIndex(name) : -1;
    }

    /** The name of the row's image in error messages: the image's origin or the row's path, else "row". */
    String name(Row row) {
        if (kind == Kind.IMAGE_STRUCT && !row.isNullAt(column)) {
            Row img = row.getStruct(column);
            int o = indexOrMinus1(img.schema(), "origin");
            if (o >= 0 && !img.isNullAt(o)) return img.getString(o);
        }
        if (pathColumn >= 0 && !row.isNullAt(pathColumn)) return String.valueOf(row.get(pathColumn));
        return "row";
    }

    /** The row's image; an IOException whose message names the image and the problem. */
    BufferedImage read(Row row) throws IOException {
        String name = name(row);
        if (row.isNullAt(column)) throw new IOException(name + ": no image (null)");
        if (kind == Kind.ENCODED_BYTES) return Images.decode((byte[]) row.get(column), name, maxPixels);
        Row img = row.getStruct(column);
        int h = img.getInt(img.fieldIndex("height")), w = img.getInt(img.fieldIndex("width")), c = img.getInt(img.fieldIndex("nChannels"));
        byte[] data = (byte[]) img.get(img.fieldIndex("data"));
        if (h <= 0 || w <= 0 || data == null || data.length == 0) throw new IOException(name + ": empty image (" + w + "x" + h + ")");
        if ((long) h * w > maxPixels) {
            throw new IOException(String.format(java.util.Locale.ROOT, "%s: %dx%d is %,d pixels, above the limit of %,d", name, w, h, (long) h * w, maxPixels));
        }
        if (c != 1 && c != 3 && c != 4) throw new IOException(name + ": " + c + " channels; expected 1, 3 or 4");
        if (data.length != (long) h * w * c) {
            throw new IOException(name + ": " + data.length + " bytes of data for " + w + "x" + h + "x" + c);
        }
        return toBufferedImage(data, h, w, c);
    }

    /** ImageSchema bytes (BGR, BGRA or grey, row-major) as a BufferedImage of the same pixels. */
    static BufferedImage toBufferedImage(byte[] data, int h, int w, int c) {
        if (c == 1) {
            BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            System.arraycopy(data, 0, ((DataBufferByte) bi.getRaster().getDataBuffer()).getData(), 0, data.length);
            return bi;
        }
        if (c == 3) { // TYPE_3BYTE_BGR stores B, G, R per pixel: ImageSchema's order
            BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            System.arraycopy(data, 0, ((DataBufferByte) bi.getRaster().getDataBuffer()).getData(), 0, data.length);
            return bi;
        }
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_4BYTE_ABGR); // A, B, G, R per pixel
        byte[] out = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
        for (int p = 0; p < h * w; p++) {
            out[4 * p] = data[4 * p + 3];
            out[4 * p + 1] = data[4 * p];
            out[4 * p + 2] = data[4 * p + 1];
            out[4 * p + 3] = data[4 * p + 2];
        }
        return bi;
    }
}
