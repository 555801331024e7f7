package org.mambavision.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.mambavision.engine.Tensor;

/**
 * An Open Inference Protocol v2 infer response: JSON tensors, or with Triton's binary tensor data extension a JSON
 * header (its length in {@code jsonLength}) followed by the binary outputs, little-endian FP32, in order.
 */
public record InferResponse(byte[] body, int jsonLength) {
    /** An output to send; {@code binary} puts its values after the JSON header. */
    public record Named(String name, Tensor tensor, boolean binary) {}

    private static final JsonFactory JSON = new JsonFactory();

    public boolean hasBinary() {
        return jsonLength >= 0;
    }

    public static InferResponse encode(String model, String id, List<Named> outputs) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
            boolean anyBinary = false;
            try (JsonGenerator g = JSON.createGenerator(out)) {
                g.writeStartObject();
                g.writeStringField("model_name", model);
                g.writeStringField("model_version", "1");
                if (id != null) g.writeStringField("id", id);
                g.writeArrayFieldStart("outputs");
                for (Named o : outputs) {
                    g.writeStartObject();
                    g.writeStringField("name", o.name());
                    g.writeStringField("datatype", "FP32");
                    g.writeArrayFieldStart("shape");
                    for (int d : o.tensor().shape()) g.writeNumber(d);
                    g.writeEndArray();
                    if (o.binary()) {
                        anyBinary = true;
                        g.writeObjectFieldStart("parameters");
                        g.writeNumberField("binary_data_size", 4L * o.tensor().numel());
                        g.writeEndObject();
                    } else {
                        g.writeArrayFieldStart("data");
                        for (float v : o.tensor().data) g.writeNumber(v);
                        g.writeEndArray();
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            if (!anyBinary) return new InferResponse(out.toByteArray(), -1);
            int jsonLength = out.size();
            for (Named o : outputs) {
                if (!o.binary()) continue;
                ByteBuffer b = ByteBuffer.allocate(4 * o.tensor().numel()).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(o.tensor().data);
                out.write(b.array());
            }
            return new InferResponse(out.toByteArray(), jsonLength);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }
}
