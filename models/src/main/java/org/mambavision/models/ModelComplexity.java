package org.mambavision.models;

import org.mambavision.models.flat.FlatConfig;
import org.mambavision.models.mambavision.MambaVisionConfig;

/**
 * Parameters and multiply-accumulates of a registered model, counted from its configuration alone: no
 * weights are built, so the largest variants (MambaVision-L3, 740M parameters) cost microseconds, not gigabytes.
 * MACs follow {@link ModelSummary}'s conventions (convolutions, linear layers, attention's two products and
 * three per selective-scan state update; norms, activations and the depthwise 1-D convolutions not counted),
 * and the tests hold the two counts equal.
 */
public record ModelComplexity(String model, int height, int width, long params, long macs) {

    /** The model with its defaults (1000 classes, 3 channels) at its default input size. */
    public static ModelComplexity of(String name) {
        String n = ModelRegistry.canonical(name);
        int size = ModelRegistry.defaultImgSize(n);
        return of(n, size, size);
    }

    /** The model with its defaults at {@code height x width}. */
    public static ModelComplexity of(String name, int height, int width) {
        String n = ModelRegistry.canonical(name);
        return ModelRegistry.isFlat(n) ? flat(ModelRegistry.flatConfig(n), height, width)
                : hierarchical(ModelRegistry.hierarchicalConfig(n), height, width);
    }

    static ModelComplexity hierarchical(MambaVisionConfig c, int height, int width) {
        Count n = new Count();
        int h = convOut(height), w = convOut(width);
        n.conv(c.inChans(), c.inDim(), 3, false, (long) h * w);
        n.params += 2L * c.inDim(); // BatchNorm weight, bias
        h = convOut(h);
        w = convOut(w);
        n.conv(c.inDim(), c.dim(), 3, false, (long) h * w);
        n.params += 2L * c.dim();
        for (int level = 0; level < 4; level++) {
            int dim = c.dim() << level, depth = c.depths()[level];
            if (level < 2) {
                for (int b = 0; b < depth; b++) {
                    n.conv(dim, dim, 3, true, (long) h * w);
                    n.conv(dim, dim, 3, true, (long) h * w);
                    n.params += 4L * dim; // two BatchNorms
                }
            } else {
                int ws = c.windows()[level];
                int hp = h + (ws - h % ws) % ws, wp = w + (ws - w % ws) % ws;
                long windows = (long) (hp / ws) * (wp / ws), tokensPerWindow = (long) ws * ws;
                int firstAttention = depth % 2 != 0 ? depth / 2 + 1 : depth / 2;
                for (int b = 0; b < depth; b++) {
                    n.block(dim, b >= firstAttention, 8, c.mlpRatio(), c.layerScale() != null, windows, tokensPerWindow);
                }
            }
            if (level < 3) {
                h = convOut(h);
                w = convOut(w);
                n.conv(dim, 2 * dim, 3, false, (long) h * w);
            }
        }
        n.params += 2L * c.numFeatures();               // final BatchNorm
        n.linear(c.numFeatures(), c.numClasses(), true, 1);
        return new ModelComplexity(c.name(), height, width, n.params, n.macs);
    }

    static ModelComplexity flat(FlatConfig c, int height, int width) {
        int p = c.patchSize();
        if (height % p != 0 || width % p != 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException(c.name() + ": input " + height + "x" + width + " is not a multiple of the patch size " + p);
        }
        Count n = new Count();
        long tokens = (long) (height / p) * (width / p);
        n.conv(c.inChans(), c.embedDim(), p, true, tokens);
        for (int b = 0; b < c.depth(); b++) {
            n.block(c.embedDim(), b >= c.mambaBlocks(), c.dState(), c.mlpRatio(), c.layerScale() != null, 1, tokens);
        }
        n.params += 2L * c.embedDim();                   // final LayerNorm
        n.linear(c.embedDim(), c.numClasses(), true, 1);
        return new ModelComplexity(c.name(), height, width, n.params, n.macs);
    }

    /** Output size of a 3x3, stride 2, padding 1 convolution. */
    private static int convOut(int size) {
        return (size - 1) / 2 + 1;
    }

    /** Running totals; each layer adds its parameters and, for {@code tokens} output positions, its MACs. */
    private static final class Count {
        long params, macs;

        void conv(int in, int out, int kernel, boolean bias, long positions) {
            params += (long) out * in * kernel * kernel + (bias ? out : 0);
            macs += positions * out * in * kernel * kernel;
        }

        void linear(int in, int out, boolean bias, long tokens) {
            params += (long) in * out + (bias ? out : 0);
            macs += tokens * in * out;
        }

        /** A pre-norm Block (mixer + MLP) run on {@code windows} groups of {@code tokensPerWindow} tokens. */
        void block(int dim, boolean attention, int dState, float mlpRatio, boolean layerScale, long windows, long tokensPerWindow) {
            long tokens = windows * tokensPerWindow;
            params += 4L * dim;                          // norm1, norm2
            if (attention) {
                linear(dim, 3 * dim, true, tokens);      // qkv
                macs += 2 * windows * tokensPerWindow * tokensPerWindow * dim; // q k^T and p v
                linear(dim, dim, true, tokens);          // proj
            } else {
                int half = dim / 2, dtRank = (dim + 15) / 16;
                linear(dim, dim, false, tokens);         // in_proj
                linear(half, dtRank + 2 * dState, false, tokens); // x_proj
                linear(dtRank, half, true, tokens);      // dt_proj
                macs += 3L * tokens * half * dState;     // the scan
                linear(dim, dim, false, tokens);         // out_proj
                params += (long) half * dState + half + 2L * half * 3; // A_log, D, conv1d_x, conv1d_z
            }
            int hidden = (int) (dim * mlpRatio);
            linear(dim, hidden, true, tokens);
            linear(hidden, dim, true, tokens);
            if (layerScale) params += 2L * dim;          // gamma_1, gamma_2
        }
    }
}
