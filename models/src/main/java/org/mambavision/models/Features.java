package org.mambavision.models;

import java.util.List;
import org.mambavision.engine.Tensor;

/**
 * Backbone outputs for dense heads: {@code stages} are the feature maps (B, C_i, H_i, W_i) of each
 * stage before its downsample; {@code pooled} is the (B, C) vector that feeds the classifier head.
 */
public record Features(List<Tensor> stages, Tensor pooled) {}
