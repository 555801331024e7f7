package org.mambavision.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.mambavision.engine.io.Json;
import org.mambavision.models.ModelComplexity;
import org.mambavision.models.ModelRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "models", mixinStandardHelpOptions = true,
        description = {"Every registered model: parameters, multiply-accumulates at its default input size (1000 classes), "
                + "default size and aliases (any alias works wherever a model name does).",
                "Counted from the configurations, so this is instant even for the largest models."})
public final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print one JSON array, one object per model.")
    boolean json;

    @Override
    public Integer call() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String name : ModelRegistry.names()) {
            ModelComplexity c = ModelComplexity.of(name);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", name);
            row.put("family", ModelRegistry.isFlat(name) ? "flat" : "hierarchical");
            row.put("params", c.params());
            row.put("macs", c.macs());
            row.put("img_size", ModelRegistry.defaultImgSize(name));
            row.put("aliases", ModelRegistry.aliases(name));
            rows.add(row);
        }
        if (json) {
            System.out.println(Json.write(rows));
            return 0;
        }
        System.out.printf(Locale.ROOT, "%-20s %-13s %14s %9s %6s  %s%n", "model", "family", "parameters", "GMACs", "size", "aliases");
        for (Map<String, Object> r : rows) {
            System.out.printf(Locale.ROOT, "%-20s %-13s %,14d %9.3f %6s  %s%n", r.get("name"), r.get("family"), (Long) r.get("params"),
                    (Long) r.get("macs") / 1e9, r.get("img_size"), String.join(", ", castList(r.get("aliases"))));
        }
        System.out.println();
        System.out.println("GMACs: billions of multiply-accumulates for one image at the default size (size x size); "
                + "`summary --model NAME --img-size S` gives the per-layer table at any size.");
        return 0;
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return (List<String>) o;
    }
}
