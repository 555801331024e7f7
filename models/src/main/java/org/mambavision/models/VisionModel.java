package org.mambavision.models;

import java.util.Map;
import org.mambavision.engine.Tensor;

/** What every model in the registry offers. Implementations are {@link org.mambavision.models.nn.Module}s. */
public interface VisionModel {
    /** Registry name, e.g. {@code mambavision_t} or {@code flat_tiny}. */
    String name();

    /** images (B, C, H, W) -> logits (B, numClasses). */
    Tensor forward(Tensor images);

    Features forwardFeatures(Tensor images);

    /** The classifier head on pooled features (B, C) -> logits (B, numClasses). */
    Tensor head(Tensor pooled);

    int numClasses();

    int inChans();

    /** Default input size (square) and the evaluation crop fraction. */
    int defaultImgSize();

    float cropPct();

    /** Parameters and buffers by official name (live tensors). */
    Map<String, Tensor> stateDict();

    Map<String, Tensor> namedParameters();

    long numParams();

    void train(boolean on);

    /** Eval mode with weights prepared once for inference (same results, faster at small batches); see Module. */
    void freezeForInference();

    /** Ends {@link #freezeForInference()}; train(true) and loading weights do too. */
    void unfreeze();

    boolean training();

    /** Drop-path randomness, for exact resume. */
    org.mambavision.models.blocks.StochasticDepth stochasticDepth();
}
