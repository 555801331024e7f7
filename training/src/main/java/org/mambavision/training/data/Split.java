package org.mambavision.training.data;

/** A dataset cut into disjoint train and validation views. */
public record Split(Subset train, Subset val) {}
