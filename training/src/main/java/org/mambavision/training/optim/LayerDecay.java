package org.mambavision.training.optim;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Layer-wise learning-rate decay (BEiT; timm's {@code param_groups_layer_decay}): parameter groups deeper in the network
 * keep more of the learning rate. Layer ids by depth: 0 for the stem ({@code patch_embed}), then the blocks in the order
 * the input meets them, 1..num_layers (hierarchical MambaVision: the conv levels' blocks, then each later level's; a
 * level's downsampler goes with the next level's first block), and num_layers + 1 for everything after the last block
 * (final norm, head). A parameter of layer id i gets {@code decay^(num_layers + 1 - i)} times the learning rate.
 */
public final class LayerDecay {
    private static final Pattern FLAT_BLOCK = Pattern.compile("blocks\\.(\\d+)\\..*");
    private static final Pattern LEVEL_BLOCK = Pattern.compile("levels\\.(\\d+)\\.blocks\\.(\\d+)\\..*");
    private static final Pattern LEVEL_DOWNSAMPLE = Pattern.compile("levels\\.(\\d+)\\.downsample\\..*");

    private LayerDecay() {}

    /** Layer id of each parameter name, in the given order, and the number of blocks. */
    public record Layers(Map<String, Integer> ids, int numLayers) {}

    /** The layer id of each name (see the class comment). */
    public static Layers layers(Collection<String> names) {
        // blocks per level, read off the names themselves: level -> highest block index + 1 (a flat model is level -1)
        TreeMap<Integer, Integer> depths = new TreeMap<>();
        for (String n : names) {
            Matcher lb = LEVEL_BLOCK.matcher(n), fb = FLAT_BLOCK.matcher(n);
            if (lb.matches()) depths.merge(Integer.parseInt(lb.group(1)), Integer.parseInt(lb.group(2)) + 1, Math::max);
            else if (fb.matches()) depths.merge(-1, Integer.parseInt(fb.group(1)) + 1, Math::max);
        }
        Map<Integer, Integer> offset = new TreeMap<>(); // blocks before each level
        int numLayers = 0;
        for (Map.Entry<Integer, Integer> e : depths.entrySet()) {
            offset.put(e.getKey(), numLayers);
            numLayers += e.getValue();
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String n : names) {
            Matcher lb = LEVEL_BLOCK.matcher(n), fb = FLAT_BLOCK.matcher(n), ds = LEVEL_DOWNSAMPLE.matcher(n);
            int id;
            if (n.startsWith("patch_embed.")) id = 0;
            else if (lb.matches()) id = offset.get(Integer.parseInt(lb.group(1))) + Integer.parseInt(lb.group(2)) + 1;
            else if (fb.matches()) id = offset.get(-1) + Integer.parseInt(fb.group(1)) + 1;
            else if (ds.matches()) {
                int level = Integer.parseInt(ds.group(1));
                id = offset.getOrDefault(level, 0) + depths.getOrDefault(level, 0) + 1;
            } else id = numLayers + 1;
            ids.put(n, Math.min(id, numLayers + 1));
        }
        return new Layers(ids, numLayers);
    }

    /** Learning-rate multiplier of each name: decay^(num_layers + 1 - layer id); decay in (0, 1]. */
    public static Map<String, Double> scales(Collection<String> names, double decay) {
        if (!(decay > 0 && decay <= 1)) throw new IllegalArgumentException("layer_decay must be in (0, 1], got " + decay);
        Layers layers = layers(names);
        int top = layers.numLayers() + 1;
        Map<String, Double> out = new LinkedHashMap<>();
        layers.ids().forEach((n, id) -> out.put(n, Math.pow(decay, top - id)));
        return out;
    }
}
