package org.mambavision.export;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.io.AtomicFiles;

/**
 * Writes a recorded {@link OpTrace} as an ONNX model file. The message and field numbers are those of the ONNX
 * specification's {@code onnx.proto} (written here as constants; no schema file is compiled). Initializers go
 * inline, or, when the model would pass protobuf's 2 GB limit, into one external data file beside the model
 * (ONNX's external data: location, offset and length per tensor).
 */
final class OnnxWriter {
    // ModelProto
    private static final int MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC = 6,
            MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8, MODEL_METADATA_PROPS = 14;
    // OperatorSetIdProto
    private static final int OPSET_DOMAIN = 1, OPSET_VERSION = 2;
    // StringStringEntryProto
    private static final int ENTRY_KEY = 1, ENTRY_VALUE = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12;
    // NodeProto
    private static final int NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5;
    // AttributeProto and its AttributeType values
    private static final int ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_G = 6, ATTR_FLOATS = 7, ATTR_INTS = 8, ATTR_TYPE = 20;
    private static final int TYPE_FLOAT = 1, TYPE_INT = 2, TYPE_STRING = 3, TYPE_GRAPH = 5, TYPE_FLOATS = 6, TYPE_INTS = 7;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    private static final int VALUE_NAME = 1, VALUE_TYPE = 2, TYPE_TENSOR = 1, TENSOR_ELEM_TYPE = 1, TENSOR_SHAPE = 2,
            SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2;
    // TensorProto
    private static final int TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_INT64_DATA = 7, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
            TENSOR_EXTERNAL_DATA = 13, TENSOR_DATA_LOCATION = 14, LOCATION_EXTERNAL = 1;

    /** Tensors this large or larger go to the external data file when one is used. */
    static final long EXTERNAL_MIN_BYTES = 1024;
    /** protobuf's limit on a message, with room for the graph itself. */
    static final long DEFAULT_EXTERNAL_THRESHOLD = (1L << 31) - (64L << 20);

    private OnnxWriter() {}

    /** IR version paired with each opset by the ONNX release that introduced it. */
    static int irVersion(int opset) {
        return opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 22 ? 10 : 11;
    }

    /**
     * Writes {@code trace} to {@code output} (atomically). When its initializers reach {@code externalThreshold} bytes,
     * those of at least {@link #EXTERNAL_MIN_BYTES} go to {@code output + ".data"}, written first. Returns the external
     * data file, or null.
     */
    static Path write(OpTrace trace, Map<String, String> metadata, String doc, Path output, long externalThreshold) throws IOException {
        long total = 0;
        for (OpTrace.Initializer in : trace.initializers()) total += in.byteSize();
        Path data = null;
        List<OpTrace.Initializer> external = List.of();
        if (total >= externalThreshold) {
            data = output.resolveSibling(output.getFileName() + ".data");
            external = trace.initializers().stream().filter(in -> in.isFloat() && in.byteSize() >= EXTERNAL_MIN_BYTES).toList();
            List<OpTrace.Initializer> toWrite = external;
            AtomicFiles.write(data, out -> {
                CodedOutputStream cos = CodedOutputStream.newInstance(out, 1 << 16);
                for (OpTrace.Initializer in : toWrite) ProtoMessage.writeFloatsLittleEndian(cos, in.floats().get());
                cos.flush();
            });
        }
        ProtoMessage model = model(trace, metadata, doc, external, data == null ? null : data.getFileName().toString());
        AtomicFiles.write(output, (OutputStream out) -> {
            CodedOutputStream cos = CodedOutputStream.newInstance(out, 1 << 16);
            model.writeTo(cos);
            cos.flush();
        });
        return data;
    }

    private static ProtoMessage model(OpTrace trace, Map<String, String> metadata, String doc, List<OpTrace.Initializer> external,
                                      String dataFile) {
        ProtoMessage m = new ProtoMessage()
                .varint(MODEL_IR_VERSION, irVersion(trace.opset()))
                .string(MODEL_PRODUCER_NAME, "mambavision-jvm")
                .string(MODEL_PRODUCER_VERSION, "0.1.0")
                .string(MODEL_DOC, doc)
                .message(MODEL_OPSET_IMPORT, new ProtoMessage().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, trace.opset()));
        ProtoMessage g = graph(trace.graph());
        java.util.Set<OpTrace.Initializer> ext = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        ext.addAll(external);
        long offset = 0;
        for (OpTrace.Initializer in : trace.initializers()) {
            if (ext.contains(in)) {
                g.message(GRAPH_INITIALIZER, tensorHeader(in)
                        .message(TENSOR_EXTERNAL_DATA, entry("location", dataFile))
                        .message(TENSOR_EXTERNAL_DATA, entry("offset", Long.toString(offset)))
                        .message(TENSOR_EXTERNAL_DATA, entry("length", Long.toString(in.byteSize())))
                        .varint(TENSOR_DATA_LOCATION, LOCATION_EXTERNAL));
                offset += in.byteSize();
            } else {
                g.message(GRAPH_INITIALIZER, in.isFloat() ? tensorHeader(in).rawFloats(TENSOR_RAW_DATA, in.floats(), in.numel())
                        : tensorHeader(in).packedLongs(TENSOR_INT64_DATA, in.longs()));
            }
        }
        m.message(MODEL_GRAPH, g);
        metadata.forEach((k, v) -> m.message(MODEL_METADATA_PROPS, entry(k, v)));
        return m;
    }

    private static ProtoMessage entry(String key, String value) {
        return new ProtoMessage().string(ENTRY_KEY, key).string(ENTRY_VALUE, value);
    }

    private static ProtoMessage tensorHeader(OpTrace.Initializer in) {
        long[] dims = new long[in.shape().length];
        for (int i = 0; i < dims.length; i++) dims[i] = in.shape()[i];
        return new ProtoMessage().packedLongs(TENSOR_DIMS, dims)
                .varint(TENSOR_DATA_TYPE, in.isFloat() ? OpTrace.FLOAT : OpTrace.INT64)
                .string(TENSOR_NAME, in.name());
    }

    private static ProtoMessage graph(OpTrace.Graph graph) {
        ProtoMessage g = new ProtoMessage();
        for (int k = 0; k < graph.nodes.size(); k++) {
            OpTrace.Node n = graph.nodes.get(k);
            ProtoMessage node = new ProtoMessage();
            for (String in : n.inputs()) node.string(NODE_INPUT, in);
            for (String out : n.outputs()) node.string(NODE_OUTPUT, out);
            // named after the model layer it computes where known (levels.2.blocks.0/MatMul_412), else its graph
            String scope = k < graph.layers.size() ? graph.layers.get(k) : graph.name;
            node.string(NODE_NAME, scope + "/" + n.op() + "_" + k).string(NODE_OP_TYPE, n.op());
            for (OpTrace.Attr a : n.attrs()) node.message(NODE_ATTRIBUTE, attribute(a));
            g.message(GRAPH_NODE, node);
        }
        g.string(GRAPH_NAME, graph.name);
        for (OpTrace.ValueInfo v : graph.inputs) g.message(GRAPH_INPUT, valueInfo(v));
        for (OpTrace.ValueInfo v : graph.outputs) g.message(GRAPH_OUTPUT, valueInfo(v));
        return g;
    }

    private static ProtoMessage attribute(OpTrace.Attr a) {
        ProtoMessage m = new ProtoMessage().string(ATTR_NAME, a.name());
        switch (a.value()) {
            case Long v -> m.varint(ATTR_I, v).varint(ATTR_TYPE, TYPE_INT);
            case Float v -> m.float32(ATTR_F, v).varint(ATTR_TYPE, TYPE_FLOAT);
            case String v -> m.string(ATTR_S, v).varint(ATTR_TYPE, TYPE_STRING);
            case long[] v -> {
                for (long x : v) m.varint(ATTR_INTS, x);
                m.varint(ATTR_TYPE, TYPE_INTS);
            }
            case float[] v -> {
                for (float x : v) m.float32(ATTR_FLOATS, x);
                m.varint(ATTR_TYPE, TYPE_FLOATS);
            }
            case OpTrace.Graph v -> m.message(ATTR_G, graph(v)).varint(ATTR_TYPE, TYPE_GRAPH);
            default -> throw new IllegalStateException("attribute " + a.name() + ": unsupported value " + a.value().getClass());
        }
        return m;
    }

    private static ProtoMessage valueInfo(OpTrace.ValueInfo v) {
        ProtoMessage shape = new ProtoMessage();
        for (int d : v.dims()) {
            ProtoMessage dim = new ProtoMessage();
            if (d >= 0) dim.varint(DIM_VALUE, d);
            else if (v.dimParam() != null) dim.string(DIM_PARAM, v.dimParam());
            shape.message(SHAPE_DIM, dim);
        }
        ProtoMessage tensor = new ProtoMessage().varint(TENSOR_ELEM_TYPE, v.elemType()).message(TENSOR_SHAPE, shape);
        return new ProtoMessage().string(VALUE_NAME, v.name()).message(VALUE_TYPE, new ProtoMessage().message(TYPE_TENSOR, tensor));
    }
}
