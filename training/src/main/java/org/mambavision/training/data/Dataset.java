package org.mambavision.training.data;

import java.util.List;

/**
 * An indexed, labelled image collection. {@link #get} must be thread-safe and return a fresh {@link Image}
 * each call (transforms may modify it in place).
 */
public interface Dataset {
    /** Short name used in logs and error messages. */
    String name();

    int size();

    int numClasses();

    List<String> classNames();

    Sample get(int index);

    /** Files that could not be read and were left out (file + reason); empty for datasets without files. */
    default List<String> skipped() { return List.of(); }

    default void checkIndex(int index) {
        if (index < 0 || index >= size()) throw new IndexOutOfBoundsException(name() + ": index " + index + " out of 0.." + (size() - 1));
    }

    /** Names "0", "1", ... for datasets without class names. */
    static List<String> indexNames(int n) {
        String[] s = new String[n];
        for (int i = 0; i < n; i++) s[i] = Integer.toString(i);
        return List.of(s);
    }
}
