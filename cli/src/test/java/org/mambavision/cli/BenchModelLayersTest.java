package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.bench.BenchRow;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.ModelSummary;

/** {@code bench model --layers}: one row per layer of the summary, in its order, and the pass total. */
class BenchModelLayersTest {
    @Test
    void oneRowPerSummaryLayerAndATotal() throws Exception {
        List<BenchRow> rows = new ArrayList<>();
        ModelBenchmarks.run("mambavision_mini", 1, "64", 1, false, true, false, rows::add);
        List<String> layers = ModelSummary.of(ModelRegistry.create("mambavision_mini"), 64, 64).rows().stream().map(r -> r.name()).toList();
        List<BenchRow> layerRows = rows.stream().filter(r -> r.name().equals("layer")).toList();
        assertEquals(layers.size(), layerRows.size(), rows.toString());
        for (int i = 0; i < layers.size(); i++) {
            BenchRow r = layerRows.get(i);
            assertTrue(r.shape().startsWith("mambavision_mini b1 64x64 " + layers.get(i)), r.shape());
            assertTrue(r.value() >= 0 && Double.isFinite(r.value()), r.toString());
            assertEquals("ms", r.unit());
        }
        BenchRow total = rows.stream().filter(r -> r.name().equals("layers_total")).findFirst().orElseThrow();
        assertTrue(total.value() > 0, total.toString());
        assertTrue(rows.stream().noneMatch(r -> r.name().startsWith("ort_")), "no ONNX Runtime rows without --runtime onnxruntime");
    }
}
