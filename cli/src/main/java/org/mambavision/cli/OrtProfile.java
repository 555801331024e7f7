package org.mambavision.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Runtime's profile (a Chrome trace: a JSON array of events with {@code cat}, {@code name}, {@code ts} and {@code dur}
 * in microseconds) added up by node-name prefix, over the last runs of the session.
 */
final class OrtProfile {
    private OrtProfile() {}

    private static final String KERNEL = "_kernel_time";

    /**
     * Milliseconds per run, by node name, of the node kernels that ran within the last {@code runs} {@code model_run}
     * events (earlier runs are the warm-up). In first-seen order.
     */
    static Map<String, Double> millisByNode(Path profile, int runs) throws IOException {
        JsonNode events;
        try {
            events = new ObjectMapper().readTree(profile.toFile());
        } catch (IOException e) {
            throw new IOException(profile + ": not an ONNX Runtime profile: " + e.getMessage(), e);
        }
        if (events == null || !events.isArray()) throw new IOException(profile + ": not an ONNX Runtime profile (no event array)");
        List<long[]> windows = new ArrayList<>();
        for (JsonNode e : events) {
            if ("Session".equals(e.path("cat").asText()) && "model_run".equals(e.path("name").asText())) {
                long ts = e.path("ts").asLong();
                windows.add(new long[] {ts, ts + e.path("dur").asLong()});
            }
        }
        if (windows.size() < runs) throw new IOException(profile + ": " + windows.size() + " runs recorded, " + runs + " asked for");
        windows.sort((a, b) -> Long.compare(a[0], b[0]));
        long from = windows.get(windows.size() - runs)[0], to = windows.get(windows.size() - 1)[1];
        Map<String, Double> micros = new LinkedHashMap<>();
        for (JsonNode e : events) {
            String name = e.path("name").asText();
            if (!"Node".equals(e.path("cat").asText()) || !name.endsWith(KERNEL)) continue;
            long ts = e.path("ts").asLong();
            if (ts < from || ts > to) continue;
            micros.merge(name.substring(0, name.length() - KERNEL.length()), e.path("dur").asDouble(), Double::sum);
        }
        Map<String, Double> ms = new LinkedHashMap<>();
        micros.forEach((k, v) -> ms.put(k, v / 1e3 / runs));
        return ms;
    }

    /** What {@link #layerOfNodes} gives a node it cannot place. */
    static final String UNATTRIBUTED = "(unattributed)";

    /**
     * The model layer of each node of ONNX Runtime's optimised graph. The export names each node after its layer
     * ({@code levels.2.blocks.0/MatMul_412}); the nodes that ONNX Runtime makes (fused convolutions in its blocked
     * layout, layout reorders, BiasGelu) get names of its own but keep some of the original value names: such a node
     * belongs to the layer of a constant it reads (a weight or a folded bias), else of a value it writes, else of a
     * value it reads.
     */
    static Map<String, String> layerOfNodes(List<OnnxGraphNodes.Node> exported, List<OnnxGraphNodes.Node> optimized, Set<String> layers) {
        Map<String, String> written = new HashMap<>(), constants = new HashMap<>();
        for (OnnxGraphNodes.Node n : exported) {
            String layer = layerPrefix(n.name(), layers);
            if (layer != null) for (String o : n.outputs()) written.putIfAbsent(o, layer);
        }
        for (OnnxGraphNodes.Node n : exported) {
            String layer = layerPrefix(n.name(), layers);
            if (layer == null) continue;
            for (String i : n.inputs()) if (!written.containsKey(i) && !i.equals("images")) constants.putIfAbsent(i, layer);
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (OnnxGraphNodes.Node n : optimized) {
            String layer = layerPrefix(n.name(), layers);
            if (layer == null) layer = first(n.inputs(), constants, layers);
            if (layer == null) layer = first(n.outputs(), written, layers);
            if (layer == null) layer = first(n.inputs(), written, layers);
            out.put(n.name(), layer == null ? UNATTRIBUTED : layer);
        }
        return out;
    }

    /** The layer a name starts with ({@code levels.2.blocks.0/...}), or null. */
    private static String layerPrefix(String name, Set<String> layers) {
        int slash = name.indexOf('/');
        return slash > 0 && layers.contains(name.substring(0, slash)) ? name.substring(0, slash) : null;
    }

    private static String first(List<String> names, Map<String, String> layerOf, Set<String> layers) {
        for (String v : names) {
            String layer = layerOf.get(v);
            if (layer == null) layer = layerPrefix(v, layers);
            if (layer != null) return layer;
        }
        return null;
    }
}
