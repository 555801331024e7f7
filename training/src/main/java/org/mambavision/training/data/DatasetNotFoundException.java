package org.mambavision.training.data;

/** The files of a dataset are not where they were looked for; the message says how to get them. */
public final class DatasetNotFoundException extends IllegalArgumentException {
    public DatasetNotFoundException(String message) { super(message); }
}
