package org.mambavision.models.nn;

import java.util.ArrayList;
import java.util.List;
import org.mambavision.engine.Tensor;

/**
 * Per-layer summary of one forward pass: output shapes, parameters and multiply-accumulates.
 * Leaf layers add their MACs; container layers call {@link #layer} after they run, and each row
 * gets the MACs counted since the previous row. Thread-local; inactive (free) unless started.
 */
public final class Profiler {
    public record Row(String name, int[] outputShape, long params, long macs) {}

    private static final ThreadLocal<Profiler> ACTIVE = new ThreadLocal<>();
    private final List<Row> rows = new ArrayList<>();
    private long macs, macsAtLastRow;

    private Profiler() {}

    /** Starts recording on this thread; {@code root} gets its modules' dotted paths assigned. */
    public static Profiler start(Module root) {
        root.assignPaths("");
        Profiler p = new Profiler();
        ACTIVE.set(p);
        return p;
    }

    public void stop() {
        ACTIVE.remove();
    }

    public static void addMacs(long n) {
        Profiler p = ACTIVE.get();
        if (p != null) p.macs += n;
    }

    public static void layer(Module m, Tensor out) {
        Profiler p = ACTIVE.get();
        if (p == null) return;
        p.rows.add(new Row(m.path(), out.shape(), m.numParams(), p.macs - p.macsAtLastRow));
        p.macsAtLastRow = p.macs;
    }

    public List<Row> rows() {
        return rows;
    }

    public long totalMacs() {
        return macs;
    }
}
