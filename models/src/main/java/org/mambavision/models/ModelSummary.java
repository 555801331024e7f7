package org.mambavision.models;

import java.util.List;
import java.util.Locale;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.models.nn.Module;
import org.mambavision.models.nn.Profiler;

/** A per-layer table (name, output shape, parameters, MACs) from one no-grad forward pass on zeros. */
public record ModelSummary(String model, int height, int width, List<Profiler.Row> rows, long params, long macs) {
    public static ModelSummary of(VisionModel model, int height, int width) {
        boolean wasTraining = model.training();
        model.train(false);
        Profiler p = Profiler.start((Module) model);
        try (var g = Tape.noGrad()) {
            model.forward(Tensor.zeros(1, model.inChans(), height, width));
        } finally {
            p.stop();
            model.train(wasTraining);
        }
        return new ModelSummary(model.name(), height, width, List.copyOf(p.rows()), model.numParams(), p.totalMacs());
    }

    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-36s %-22s %14s %14s%n", "layer", "output shape", "params", "MACs"));
        for (Profiler.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-36s %-22s %,14d %,14d%n", r.name(), java.util.Arrays.toString(r.outputShape()), r.params(), r.macs()));
        }
        sb.append(String.format(Locale.ROOT, "%nmodel %s at %dx%d: %,d parameters, %.3f G multiply-accumulates (%.2f GFLOP)%n",
                model, height, width, params, macs / 1e9, 2 * macs / 1e9));
        return sb.toString();
    }

    public String toJson() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "{\"model\":\"%s\",\"height\":%d,\"width\":%d,\"params\":%d,\"macs\":%d,\"layers\":[", model, height, width, params, macs));
        for (int i = 0; i < rows.size(); i++) {
            Profiler.Row r = rows.get(i);
            if (i > 0) sb.append(',');
            sb.append(String.format(Locale.ROOT, "{\"name\":\"%s\",\"shape\":%s,\"params\":%d,\"macs\":%d}", r.name(),
                    java.util.Arrays.toString(r.outputShape()).replace(" ", ""), r.params(), r.macs()));
        }
        return sb.append("]}").toString();
    }
}
