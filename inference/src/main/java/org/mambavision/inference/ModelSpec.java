package org.mambavision.inference;

import java.util.LinkedHashMap;
import java.util.Map;
import org.mambavision.models.ModelOptions;
import org.mambavision.models.ModelRegistry;
import org.mambavision.models.VisionModel;

/** How to rebuild a trained model: registry name plus overrides, stored in checkpoint metadata. */
public record ModelSpec(String model, int inChans, int numClasses, int imgSize, Float dropPathRate, Float layerScale,
                        Integer depth, Float mambaRatio, Integer dState, Integer patchSize) {

    public VisionModel create(long seed) {
        ModelOptions o = new ModelOptions(inChans, numClasses, dropPathRate, layerScale, imgSize, depth, mambaRatio, dState, patchSize, seed);
        return ModelRegistry.create(model, o);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("in_chans", String.valueOf(inChans));
        m.put("num_classes", String.valueOf(numClasses));
        m.put("img_size", String.valueOf(imgSize));
        put(m, "drop_path_rate", dropPathRate);
        put(m, "layer_scale", layerScale);
        put(m, "depth", depth);
        put(m, "mamba_ratio", mambaRatio);
        put(m, "d_state", dState);
        put(m, "patch_size", patchSize);
        return m;
    }

    private static void put(Map<String, String> m, String k, Object v) {
        if (v != null) m.put(k, String.valueOf(v));
    }

    public static ModelSpec fromMetadata(Map<String, String> m, String file) {
        try {
            return new ModelSpec(req(m, "model", file), Integer.parseInt(req(m, "in_chans", file)), Integer.parseInt(req(m, "num_classes", file)),
                    Integer.parseInt(req(m, "img_size", file)), f(m.get("drop_path_rate")), f(m.get("layer_scale")), i(m.get("depth")),
                    f(m.get("mamba_ratio")), i(m.get("d_state")), i(m.get("patch_size")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": bad model metadata in checkpoint: " + e.getMessage());
        }
    }

    private static String req(Map<String, String> m, String k, String file) {
        String v = m.get(k);
        if (v == null) throw new IllegalArgumentException(file + ": checkpoint metadata lacks '" + k + "'");
        return v;
    }

    private static Float f(String s) {
        return s == null ? null : Float.parseFloat(s);
    }

    private static Integer i(String s) {
        return s == null ? null : Integer.parseInt(s);
    }
}
