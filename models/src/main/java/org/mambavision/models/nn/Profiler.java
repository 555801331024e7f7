package org.mambavision.models.nn;

import java.util.ArrayList;
import java.util.List;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Tensor;

/**
 * Per-layer summary of one forward pass: output shapes, parameters, multiply-accumulates and wall time.
 * Leaf layers add their MACs; container layers call {@link #layer} after they run, and each row
 * gets the MACs counted and the nanoseconds spent since the previous row (or the start), its own bookkeeping
 * excluded. While an {@link OpTrace} records on the same thread, each row also names the trace's nodes since the
 * previous row after its layer (the export's node names). Thread-local; inactive (free) unless started.
 */
public final class Profiler {
    public record Row(String name, int[] outputShape, long params, long macs, long nanos) {}

    private static final ThreadLocal<Profiler> ACTIVE = new ThreadLocal<>();
    private final List<Row> rows = new ArrayList<>();
    private long macs, macsAtLastRow;
    private long nanosAtLastRow = System.nanoTime();

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
        long now = System.nanoTime();
        OpTrace trace = OpTrace.active();
        if (trace != null) trace.endLayer(m.path());
        p.rows.add(new Row(m.path(), out.shape(), m.numParams(), p.macs - p.macsAtLastRow, now - p.nanosAtLastRow));
        p.macsAtLastRow = p.macs;
        p.nanosAtLastRow = System.nanoTime(); // the row's own bookkeeping (numParams walks the layer) is not timed
    }

    public List<Row> rows() {
        return rows;
    }

    public long totalMacs() {
        return macs;
    }
}
