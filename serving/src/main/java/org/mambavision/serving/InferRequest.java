package org.mambavision.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An Open Inference Protocol v2 infer request, parsed from its JSON (streamed, values straight into a float array)
 * and, with Triton's binary tensor data extension, from the binary part that follows the JSON header
 * ({@code Inference-Header-Content-Length} bytes of JSON, then each input with a {@code binary_data_size}
 * parameter, in order, little-endian).
 */
public record InferRequest(String id, List<Input> inputs, List<Output> outputs, boolean binaryOutputs) {
    /** An input tensor; {@code values} is filled from JSON {@code data} or from the binary part. */
    public record Input(String name, int[] shape, String datatype, float[] values) {}

    /** A requested output; {@code binary} from its {@code binary_data} parameter (null when not given). */
    public record Output(String name, Boolean binary) {}

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build()).build();

    /**
     * Parses a request body; {@code jsonLength} is the Inference-Header-Content-Length header (null: the whole body
     * is JSON). Every problem is a 400 that names the field.
     */
    public static InferRequest parse(byte[] body, String jsonLengthHeader) {
        int jsonLength = body.length;
        if (jsonLengthHeader != null) {
            try {
                jsonLength = Integer.parseInt(jsonLengthHeader.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Inference-Header-Content-Length: not a number: '" + jsonLengthHeader + "'");
            }
            if (jsonLength < 0 || jsonLength > body.length) {
                throw ApiException.badRequest("Inference-Header-Content-Length: " + jsonLength + " is outside the body's " + body.length + " bytes");
            }
        }
        Parsed p = new Parsed(jsonLength);
        try (JsonParser jp = JSON.createParser(body, 0, jsonLength)) {
            if (jp.nextToken() != JsonToken.START_OBJECT) throw ApiException.badRequest("body: expected a JSON object");
            parseRequest(jp, p);
            if (jp.nextToken() != null) throw ApiException.badRequest("body: unexpected content after the JSON object");
        } catch (IOException e) {
            throw ApiException.badRequest("body: malformed JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (p.inputs.isEmpty()) throw ApiException.badRequest("inputs: missing or empty; send one tensor named 'input'");
        List<Input> inputs = readBinary(p.inputs, body, jsonLength);
        return new InferRequest(p.id, inputs, p.outputs, p.binaryOutputs);
    }

    private static final class Parsed {
        final int jsonLength;
        String id;
        boolean binaryOutputs;
        final List<PartialInput> inputs = new ArrayList<>();
        List<Output> outputs;

        Parsed(int jsonLength) {
            this.jsonLength = jsonLength;
        }
    }

    private static final class PartialInput {
        final String field;
        String name;
        int[] shape;
        String datatype;
        FloatList data;
        long binarySize = -1;

        PartialInput(String field) {
            this.field = field;
        }
    }

    private static void parseRequest(JsonParser jp, Parsed p) throws IOException {
        while (jp.nextToken() == JsonToken.FIELD_NAME) {
            String f = jp.currentName();
            JsonToken t = jp.nextToken();
            switch (f) {
                case "id" -> p.id = string(jp, t, "id");
                case "parameters" -> {
                    for (var e : parameters(jp, t, "parameters")) if (e.key.equals("binary_data_output")) p.binaryOutputs = bool(e, "parameters");
                }
                case "inputs" -> {
                    expect(t, JsonToken.START_ARRAY, "inputs", "an array");
                    while (jp.nextToken() != JsonToken.END_ARRAY) p.inputs.add(input(jp, "inputs[" + p.inputs.size() + "]", p.jsonLength));
                }
                case "outputs" -> {
                    expect(t, JsonToken.START_ARRAY, "outputs", "an array");
                    p.outputs = new ArrayList<>();
                    while (jp.nextToken() != JsonToken.END_ARRAY) p.outputs.add(output(jp, "outputs[" + p.outputs.size() + "]"));
                }
                default -> jp.skipChildren();
            }
        }
    }

    private static PartialInput input(JsonParser jp, String field, int jsonLength) throws IOException {
        expect(jp.currentToken(), JsonToken.START_OBJECT, field, "an object");
        PartialInput in = new PartialInput(field);
        while (jp.nextToken() == JsonToken.FIELD_NAME) {
            String f = jp.currentName();
            JsonToken t = jp.nextToken();
            switch (f) {
                case "name" -> in.name = string(jp, t, field + ".name");
                case "datatype" -> in.datatype = string(jp, t, field + ".datatype");
                case "shape" -> in.shape = shape(jp, t, field + ".shape");
                case "data" -> {
                    expect(t, JsonToken.START_ARRAY, field + ".data", "an array of numbers");
                    // sized by the shape, but never beyond what the JSON can hold (each value takes 2 bytes or more)
                    in.data = new FloatList(in.shape != null ? (int) Math.min(numel(in.shape, field), jsonLength / 2 + 1) : 1024);
                    values(jp, in.data, field + ".data", in.shape);
                }
                case "parameters" -> {
                    for (var e : parameters(jp, t, field + ".parameters")) {
                        if (e.key.equals("binary_data_size")) {
                            if (!e.value.isIntegralNumber() || e.value.longValue() < 0) {
                                throw ApiException.badRequest(field + ".parameters.binary_data_size: expected a byte count, got " + e.value);
                            }
                            in.binarySize = e.value.longValue();
                        }
                    }
                }
                default -> jp.skipChildren();
            }
        }
        if (in.name == null) throw ApiException.badRequest(field + ".name: missing");
        if (in.shape == null) throw ApiException.badRequest(field + ".shape: missing");
        if (in.datatype == null) throw ApiException.badRequest(field + ".datatype: missing");
        if (!in.datatype.equals("FP32")) throw ApiException.badRequest(field + ".datatype: expected FP32, got " + in.datatype);
        if (in.data == null && in.binarySize < 0) {
            throw ApiException.badRequest(field + ": no data (give 'data', or the binary_data_size parameter with the tensor after the JSON)");
        }
        if (in.data != null && in.binarySize >= 0) throw ApiException.badRequest(field + ": both 'data' and binary_data_size given; send one");
        return in;
    }

    private static Output output(JsonParser jp, String field) throws IOException {
        expect(jp.currentToken(), JsonToken.START_OBJECT, field, "an object");
        String name = null;
        Boolean binary = null;
        while (jp.nextToken() == JsonToken.FIELD_NAME) {
            String f = jp.currentName();
            JsonToken t = jp.nextToken();
            switch (f) {
                case "name" -> name = string(jp, t, field + ".name");
                case "parameters" -> {
                    for (var e : parameters(jp, t, field + ".parameters")) if (e.key.equals("binary_data")) binary = bool(e, field + ".parameters");
                }
                default -> jp.skipChildren();
            }
        }
        if (name == null) throw ApiException.badRequest(field + ".name: missing");
        return new Output(name, binary);
    }

    private record Param(String key, JsonNode value) {}

    private static final ObjectMapper TREE = new ObjectMapper();

    private static List<Param> parameters(JsonParser jp, JsonToken t, String field) throws IOException {
        expect(t, JsonToken.START_OBJECT, field, "an object");
        List<Param> out = new ArrayList<>();
        while (jp.nextToken() == JsonToken.FIELD_NAME) {
            String k = jp.currentName();
            jp.nextToken();
            out.add(new Param(k, TREE.readTree(jp)));
        }
        return out;
    }

    private static boolean bool(Param p, String field) {
        if (!p.value.isBoolean()) throw ApiException.badRequest(field + "." + p.key + ": expected true or false, got " + p.value);
        return p.value.booleanValue();
    }

    private static int[] shape(JsonParser jp, JsonToken t, String field) throws IOException {
        expect(t, JsonToken.START_ARRAY, field, "an array of integers");
        List<Integer> dims = new ArrayList<>();
        while ((t = jp.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || jp.getLongValue() < 0 || jp.getLongValue() > Integer.MAX_VALUE) {
                throw ApiException.badRequest(field + ": expected non-negative integers, got " + jp.getText());
            }
            if (dims.size() == 8) throw ApiException.badRequest(field + ": more than 8 dimensions");
            dims.add(jp.getIntValue());
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long numel(int[] shape, String field) {
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > Integer.MAX_VALUE) throw ApiException.badRequest(field + ".shape: " + Arrays.toString(shape) + " has too many elements");
        }
        return n;
    }

    /** Numbers of a (possibly nested, row-major) array, flattened; fails past {@code max} values. */
    private static void values(JsonParser jp, FloatList out, String field, int[] shape) throws IOException {
        long max = shape == null ? Long.MAX_VALUE : numel(shape, field);
        int depth = 1;
        while (depth > 0) {
            JsonToken t = jp.nextToken();
            if (t == null) throw ApiException.badRequest(field + ": unterminated array");
            switch (t) {
                case START_ARRAY -> depth++;
                case END_ARRAY -> depth--;
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                    if (out.size >= max) throw ApiException.badRequest(field + ": more values than shape " + Arrays.toString(shape) + " needs (" + max + ")");
                    out.add(jp.getFloatValue());
                }
                default -> throw ApiException.badRequest(field + ": element " + out.size + " is " + jp.getText() + ", not a number");
            }
        }
    }

    private static List<Input> readBinary(List<PartialInput> parts, byte[] body, int jsonLength) {
        ByteBuffer bin = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice().order(ByteOrder.LITTLE_ENDIAN);
        List<Input> out = new ArrayList<>();
        for (PartialInput p : parts) {
            long n = numel(p.shape, p.field);
            float[] values;
            if (p.binarySize >= 0) {
                if (p.binarySize != 4 * n) {
                    throw ApiException.badRequest(p.field + ".parameters.binary_data_size: " + p.binarySize + " bytes, but FP32 shape "
                            + Arrays.toString(p.shape) + " needs " + 4 * n);
                }
                if (bin.remaining() < p.binarySize) {
                    throw ApiException.badRequest(p.field + ": binary data is " + bin.remaining() + " bytes, short of its binary_data_size " + p.binarySize);
                }
                values = new float[(int) n];
                bin.asFloatBuffer().get(values);
                bin.position(bin.position() + (int) p.binarySize);
            } else {
                if (p.data.size != n) {
                    throw ApiException.badRequest(p.field + ".data: " + p.data.size + " values, but shape " + Arrays.toString(p.shape) + " needs " + n);
                }
                values = p.data.toArray();
            }
            out.add(new Input(p.name, p.shape, p.datatype, values));
        }
        if (bin.remaining() > 0) throw ApiException.badRequest("body: " + bin.remaining() + " bytes after the JSON header that no input's binary_data_size claims");
        return out;
    }

    private static void expect(JsonToken t, JsonToken want, String field, String what) {
        if (t != want) throw ApiException.badRequest(field + ": expected " + what + ", got " + describe(t));
    }

    private static String string(JsonParser jp, JsonToken t, String field) throws IOException {
        if (t != JsonToken.VALUE_STRING) throw ApiException.badRequest(field + ": expected a string, got " + describe(t));
        return jp.getText();
    }

    private static String describe(JsonToken t) {
        if (t == null) return "nothing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    private static String firstLine(String s) {
        if (s == null) return "unreadable";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** A growable float array: JSON data arrive before their count is known when 'shape' comes after 'data'. */
    private static final class FloatList {
        float[] a;
        int size;

        FloatList(int capacity) {
            a = new float[Math.max(16, capacity)];
        }

        void add(float v) {
            if (size == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[size++] = v;
        }

        float[] toArray() {
            return size == a.length ? a : Arrays.copyOf(a, size);
        }
    }
}
