package org.mambavision.cli;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The main graph's nodes of an ONNX file, names and value names only (ModelProto.graph = 7, GraphProto.node = 1;
 * NodeProto input = 1, output = 2, name = 3; field numbers of the ONNX specification). Everything else is skipped,
 * loop bodies included.
 */
final class OnnxGraphNodes {
    private OnnxGraphNodes() {}

    record Node(String name, List<String> inputs, List<String> outputs) {}

    static List<Node> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            CodedInputStream model = CodedInputStream.newInstance(in);
            model.setSizeLimit(Integer.MAX_VALUE);
            List<Node> nodes = new ArrayList<>();
            int tag;
            while ((tag = model.readTag()) != 0) {
                if (tag == lengthDelimited(7)) {
                    int limit = model.pushLimit(model.readRawVarint32());
                    readGraph(model, nodes);
                    model.popLimit(limit);
                } else {
                    model.skipField(tag);
                }
            }
            return nodes;
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IOException(file + ": not an ONNX model: " + e.getMessage(), e);
        }
    }

    /** A field's tag with the length-delimited wire type (strings, messages). */
    private static int lengthDelimited(int field) {
        return field << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    private static void readGraph(CodedInputStream g, List<Node> nodes) throws IOException {
        int tag;
        while ((tag = g.readTag()) != 0) {
            if (tag != lengthDelimited(1)) {
                g.skipField(tag);
                continue;
            }
            int limit = g.pushLimit(g.readRawVarint32());
            String name = "";
            List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
            int t;
            while ((t = g.readTag()) != 0) {
                if (t == lengthDelimited(1)) inputs.add(g.readStringRequireUtf8());
                else if (t == lengthDelimited(2)) outputs.add(g.readStringRequireUtf8());
                else if (t == lengthDelimited(3)) name = g.readStringRequireUtf8();
                else g.skipField(t);
            }
            g.popLimit(limit);
            nodes.add(new Node(name, inputs, outputs));
        }
    }
}
