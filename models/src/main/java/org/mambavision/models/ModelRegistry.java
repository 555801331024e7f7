package org.mambavision.models;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mambavision.models.flat.FlatConfig;
import org.mambavision.models.flat.FlatMambaVision;
import org.mambavision.models.mambavision.MambaVision;
import org.mambavision.models.mambavision.MambaVisionConfig;

/** Every model by name (timm style), with the official names as aliases. */
public final class ModelRegistry {
    private static final Map<String, MambaVisionConfig> HIERARCHICAL = new LinkedHashMap<>();
    private static final Map<String, FlatConfig> FLAT = new LinkedHashMap<>();
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();
    /** Aliases as officially spelled (mamba_vision_T), by their lower-case key in ALIASES. */
    private static final Map<String, String> ALIAS_SPELLING = new LinkedHashMap<>();

    static {
        int[] h1 = {2, 4, 8, 16}, h2 = {4, 8, 16, 32}, w = {8, 8, 14, 7};
        hier("mambavision_t", 80, 32, new int[] {1, 3, 8, 4}, h1, w, 0.2f, null, 224, 1.0f, "mamba_vision_T");
        hier("mambavision_t2", 80, 32, new int[] {1, 3, 11, 4}, h1, w, 0.2f, null, 224, 0.98f, "mamba_vision_T2");
        hier("mambavision_s", 96, 64, new int[] {3, 3, 7, 5}, h1, w, 0.2f, null, 224, 0.93f, "mamba_vision_S");
        hier("mambavision_b", 128, 64, new int[] {3, 3, 10, 5}, h1, w, 0.3f, 1e-5f, 224, 1.0f, "mamba_vision_B", "mamba_vision_B_21k");
        hier("mambavision_l", 196, 64, new int[] {3, 3, 10, 5}, h2, w, 0.3f, 1e-5f, 224, 1.0f, "mamba_vision_L", "mamba_vision_L_21k");
        hier("mambavision_l2", 196, 64, new int[] {3, 3, 12, 5}, h2, w, 0.3f, 1e-5f, 224, 1.0f, "mamba_vision_L2");
        hier("mambavision_l2_512", 196, 64, new int[] {3, 3, 12, 5}, h2, new int[] {8, 8, 32, 16}, 0.3f, 1e-5f, 512, 1.0f, "mamba_vision_L2_512_21k");
        hier("mambavision_l3_256", 256, 64, new int[] {3, 3, 20, 10}, h2, new int[] {8, 8, 16, 8}, 0.5f, 1e-5f, 256, 1.0f, "mamba_vision_L3_256_21k");
        hier("mambavision_l3_512", 256, 64, new int[] {3, 3, 20, 10}, h2, new int[] {8, 8, 32, 16}, 0.5f, 1e-5f, 512, 1.0f, "mamba_vision_L3_512_21k");
        // Not an official variant: a small hierarchical MambaVision for 28-64 px data (Fashion-MNIST, CIFAR).
        hier("mambavision_mini", 32, 16, new int[] {1, 2, 2, 2}, new int[] {1, 2, 4, 8}, new int[] {8, 8, 4, 2}, 0.05f, null, 64, 1.0f);
        FLAT.put("flat_tiny", new FlatConfig("flat_tiny", 192, 6, 6, 0.5f, 16, 16, 224, 4f, 0.1f, null, 3, 1000));
        FLAT.put("flat_small", new FlatConfig("flat_small", 384, 8, 8, 0.5f, 16, 16, 224, 4f, 0.1f, null, 3, 1000));
        ALIASES.put("tiny", "flat_tiny");
        ALIASES.put("small", "flat_small");
    }

    private static void hier(String name, int dim, int inDim, int[] depths, int[] heads, int[] windows, float dpr, Float ls,
                             int img, float crop, String... aliases) {
        HIERARCHICAL.put(name, new MambaVisionConfig(name, dim, inDim, depths, heads, windows, 4f, dpr, ls, 3, 1000, img, crop));
        for (String a : aliases) {
            ALIASES.put(a.toLowerCase(Locale.ROOT), name);
            ALIAS_SPELLING.put(a.toLowerCase(Locale.ROOT), a);
        }
    }

    private ModelRegistry() {}

    /** Canonical names, hierarchical first. */
    public static List<String> names() {
        List<String> all = new ArrayList<>(HIERARCHICAL.keySet());
        all.addAll(FLAT.keySet());
        return all;
    }

    /** Canonical name for a name or alias (case-insensitive), or an error listing the valid names. */
    public static String canonical(String name) {
        if (isKnown(name)) return ALIASES.getOrDefault(name.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT));
        throw new IllegalArgumentException("unknown model '" + name + "'; valid: " + String.join(", ", names())
                + " (aliases: " + String.join(", ", ALIASES.keySet()) + ")");
    }

    /** True for a registered name or alias (case-insensitive). */
    public static boolean isKnown(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        n = ALIASES.getOrDefault(n, n);
        return HIERARCHICAL.containsKey(n) || FLAT.containsKey(n);
    }

    /** The aliases of a model as officially spelled, in registration order; empty if it has none. */
    public static List<String> aliases(String name) {
        String n = canonical(name);
        List<String> out = new ArrayList<>();
        ALIASES.forEach((alias, target) -> {
            if (target.equals(n)) out.add(ALIAS_SPELLING.getOrDefault(alias, alias));
        });
        return out;
    }

    /** The input size a model is built and evaluated at by default. */
    public static int defaultImgSize(String name) {
        String n = canonical(name);
        return HIERARCHICAL.containsKey(n) ? HIERARCHICAL.get(n).imgSize() : FLAT.get(n).imgSize();
    }

    public static boolean isFlat(String name) {
        return FLAT.containsKey(canonical(name));
    }

    public static MambaVisionConfig hierarchicalConfig(String name) {
        return HIERARCHICAL.get(canonical(name));
    }

    public static FlatConfig flatConfig(String name) {
        return FLAT.get(canonical(name));
    }

    public static VisionModel create(String name) {
        return create(name, ModelOptions.defaults());
    }

    public static VisionModel create(String name, ModelOptions o) {
        String n = canonical(name);
        MambaVisionConfig h = HIERARCHICAL.get(n);
        if (h != null) {
            MambaVisionConfig c = h;
            if (o.inChans() != null) c = c.withInChans(o.inChans());
            if (o.numClasses() != null) c = c.withClasses(o.numClasses());
            if (o.dropPathRate() != null) c = c.withDropPath(o.dropPathRate());
            if (o.layerScale() != null) c = c.withLayerScale(o.layerScale());
            if (o.imgSize() != null) c = c.withImgSize(o.imgSize());
            return new MambaVision(c, o.seed());
        }
        FlatConfig f = FLAT.get(n);
        FlatConfig c = f.with(o.inChans() != null ? o.inChans() : f.inChans(), o.numClasses() != null ? o.numClasses() : f.numClasses(),
                o.imgSize() != null ? o.imgSize() : f.imgSize(), o.dropPathRate() != null ? o.dropPathRate() : f.dropPathRate(),
                o.layerScale() != null ? o.layerScale() : f.layerScale(), o.depth(), o.mambaRatio(), o.dState(), o.patchSize());
        return new FlatMambaVision(c, o.seed());
    }
}
