package org.mambavision.training.optim;

import java.util.Arrays;

/**
 * A fixed split of several arrays into chunks of at most {@link #CHUNK} elements: the unit of
 * parallel work for element-wise updates and norm partials.
 *
 * <p>The split depends only on the array lengths, never on the thread count, so per-chunk
 * partial sums added in chunk order give bit-identical results on any machine.
 */
final class ParamChunks {
    static final int CHUNK = 1 << 15;

    /** For each chunk: which array (index into the lengths given), and the element range. */
    final int[] owner, start, end;
    /** For each array: its first chunk; firstChunk[n] == count(). */
    final int[] firstChunk;

    private ParamChunks(int[] owner, int[] start, int[] end, int[] firstChunk) {
        this.owner = owner;
        this.start = start;
        this.end = end;
        this.firstChunk = firstChunk;
    }

    static ParamChunks of(int[] lengths) {
        int total = 0;
        int[] first = new int[lengths.length + 1];
        for (int i = 0; i < lengths.length; i++) {
            first[i] = total;
            total += (lengths[i] + CHUNK - 1) / CHUNK;
        }
        first[lengths.length] = total;
        int[] owner = new int[total], start = new int[total], end = new int[total];
        int c = 0;
        for (int i = 0; i < lengths.length; i++) {
            for (int s = 0; s < lengths[i]; s += CHUNK) {
                owner[c] = i;
                start[c] = s;
                end[c] = Math.min(lengths[i], s + CHUNK);
                c++;
            }
        }
        return new ParamChunks(owner, start, end, first);
    }

    int count() {
        return owner.length;
    }

    /** Sum of all per-chunk partials, in chunk order. */
    static double sumAll(double[] partials) {
        double s = 0;
        for (double p : partials) s += p;
        return s;
    }

    @Override
    public String toString() {
        return "ParamChunks" + Arrays.toString(firstChunk);
    }
}
