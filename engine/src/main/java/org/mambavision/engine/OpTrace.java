package org.mambavision.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records the ops of one forward pass as a graph of ONNX nodes (standard operators, default domain).
 *
 * <p>Each op emits its nodes beside its forward and backward when a trace is active on the calling thread
 * ({@link #active()} is null otherwise, and the ops do nothing more than that check). Values are tracked by tensor
 * identity: a tensor that came out of a traced op has a value name; any other tensor an op reads is a constant and
 * becomes an initializer (parameters under their state-dict names). An op whose inputs are all constants is not
 * emitted at all: its result is read as a constant where it is used, which folds it (for example a BatchNorm folded
 * into the preceding convolution's weights, or {@code -exp(A_log)}).
 *
 * <p>The batch dimension is dynamic: every traced value has the batch (or a multiple of it) as its leading
 * dimension, so reshapes write -1 there. The serialisation into an ONNX file lives in the export module.
 */
public final class OpTrace {
    /** An ONNX attribute; value is a Long, Float, String, long[], float[] or {@link Graph}. */
    public record Attr(String name, Object value) {
        public static Attr i(String name, long v) { return new Attr(name, v); }

        public static Attr f(String name, float v) { return new Attr(name, v); }

        public static Attr s(String name, String v) { return new Attr(name, v); }

        public static Attr ints(String name, long... v) { return new Attr(name, v); }

        public static Attr graph(String name, Graph g) { return new Attr(name, g); }
    }

    /** One node: op type (default domain), input and output value names ("" for an absent optional input). */
    public record Node(String op, List<String> inputs, List<String> outputs, List<Attr> attrs) {}

    /**
     * A constant: float32 data of a shape, made by {@code floats} when it is written (a derived constant such as a
     * transposed weight exists only then, so an export holds the model's weights once), or int64 {@code longs}.
     */
    public record Initializer(String name, int[] shape, java.util.function.Supplier<float[]> floats, long[] longs) {
        public boolean isFloat() { return floats != null; }

        public long numel() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }

        public long byteSize() { return (isFloat() ? 4L : 8L) * numel(); }
    }

    /** ONNX element types used here. */
    public static final int FLOAT = 1, INT64 = 7;

    /** A graph input or output: its element type and dims; a dim below 0 is the symbolic {@code dimParam} (or unknown when that is null). */
    public record ValueInfo(String name, int elemType, int[] dims, String dimParam) {}

    /** Nodes in execution order, with the graph's inputs and outputs (initializers live in the trace). */
    public static final class Graph {
        public final String name;
        public final List<Node> nodes = new ArrayList<>();
        public final List<ValueInfo> inputs = new ArrayList<>(), outputs = new ArrayList<>();
        /** The model layer of each node ({@code levels.2.blocks.0}), for nodes up to the last {@link #endLayer}. */
        public final List<String> layers = new ArrayList<>();

        public Graph(String name) {
            this.name = name;
        }
    }

    private static final ThreadLocal<OpTrace> ACTIVE = new ThreadLocal<>();

    private final int opset;
    private final Graph main = new Graph("main");
    private Graph current = main;
    private final IdentityHashMap<Tensor, String> values = new IdentityHashMap<>();
    private final IdentityHashMap<Tensor, String> constants = new IdentityHashMap<>();
    private final IdentityHashMap<Tensor, String> paramNames;
    private final Map<String, String> derived = new HashMap<>();
    private final List<Initializer> initializers = new ArrayList<>();
    private int counter;

    /** A trace for {@code opset}, naming the initializers of these tensors (parameters, buffers) as given. */
    public OpTrace(int opset, Map<Tensor, String> paramNames) {
        this.opset = opset;
        this.paramNames = new IdentityHashMap<>(paramNames);
    }

    /** The trace recording on this thread, or null (normal runs). */
    public static OpTrace active() {
        return ACTIVE.get();
    }

    /** Starts recording on this thread until the scope closes. */
    public Tape.Scope start() {
        if (ACTIVE.get() != null) throw new IllegalStateException("OpTrace: a trace is already recording on this thread");
        ACTIVE.set(this);
        return ACTIVE::remove;
    }

    public int opset() { return opset; }

    public Graph graph() { return main; }

    public List<Initializer> initializers() { return initializers; }

    /** Declares {@code t} a graph input named {@code name}, batch dimension symbolic. */
    public void input(Tensor t, String name) {
        int[] dims = t.shape();
        dims[0] = -1;
        main.inputs.add(new ValueInfo(name, FLOAT, dims, "batch"));
        values.put(t, name);
    }

    /** Declares {@code t} (a traced value) a graph output named {@code name}. */
    public void output(Tensor t, String name) {
        String v = values.get(t);
        if (v == null) throw new IllegalStateException("OpTrace: output " + name + " " + t.shapeString() + " does not depend on the input");
        int[] dims = t.shape();
        dims[0] = -1;
        if (main.outputs.stream().anyMatch(o -> o.name().equals(v)) || main.inputs.stream().anyMatch(o -> o.name().equals(v))) {
            node("Identity", new String[] {name}, List.of(), v);
        } else {
            rename(v, name);
        }
        main.outputs.add(new ValueInfo(name, FLOAT, dims, "batch"));
    }

    private void rename(String from, String to) {
        rename(main, from, to);
        values.replaceAll((k, v) -> v.equals(from) ? to : v);
    }

    /** Renames a value in {@code g} and in its subgraphs (a loop body may read values of the graph around it). */
    private static void rename(Graph g, String from, String to) {
        for (int i = 0; i < g.nodes.size(); i++) {
            Node n = g.nodes.get(i);
            for (Attr a : n.attrs) if (a.value() instanceof Graph sub) rename(sub, from, to);
            if (n.outputs.contains(from) || n.inputs.contains(from)) {
                g.nodes.set(i, new Node(n.op, n.inputs.stream().map(s -> s.equals(from) ? to : s).toList(),
                        n.outputs.stream().map(s -> s.equals(from) ? to : s).toList(), n.attrs));
            }
        }
    }

    /**
     * The main graph's nodes recorded since the previous call belong to {@code layer} (a model layer's dotted path): the
     * export names them after it, so that a runtime's per-node profile adds up by layer.
     */
    public void endLayer(String layer) {
        while (main.layers.size() < main.nodes.size()) main.layers.add(layer);
    }

    // ---- what the ops call -------------------------------------------------------------------

    /** True when any of these tensors came out of a traced op (so an op on them must be emitted). */
    public boolean traced(Tensor... ts) {
        for (Tensor t : ts) if (t != null && values.containsKey(t)) return true;
        return false;
    }

    /**
     * Emits one node computing {@code out} unless every tensor input is a constant (then {@code out} is folded).
     * {@code args} are the inputs (a Tensor, a value name, or null for an absent optional input) and attributes
     * ({@link Attr}s, anywhere in the list).
     */
    public void op(Tensor out, String type, Object... args) {
        boolean live = false;
        for (Object a : args) live |= a instanceof String || (a instanceof Tensor t && values.containsKey(t));
        if (!live) return;
        bind(out, tmp(type, args));
    }

    /** Emits one node and returns its (fresh) output name. */
    public String tmp(String type, Object... args) {
        String out = fresh(type);
        List<String> ins = new ArrayList<>();
        List<Attr> attrs = new ArrayList<>();
        for (Object a : args) {
            if (a instanceof Attr at) attrs.add(at);
            else ins.add(name(a));
        }
        node(type, new String[] {out}, attrs, ins.toArray(String[]::new));
        return out;
    }

    /** Emits a node with several outputs (names given) into the graph being built. */
    public void node(String type, String[] outs, List<Attr> attrs, String... ins) {
        current.nodes.add(new Node(type, List.of(ins), List.of(outs), List.copyOf(attrs)));
    }

    /** {@code out} is the value named {@code name}. */
    public void bind(Tensor out, String name) {
        values.put(out, name);
    }

    /** The value name of a tensor (an initializer when it is a constant), a name itself, or "" for null. */
    public String name(Object x) {
        if (x == null) return "";
        if (x instanceof String s) return s;
        Tensor t = (Tensor) x;
        String v = values.get(t);
        if (v != null) return v;
        v = constants.get(t);
        if (v != null) return v;
        String param = paramNames.get(t);
        v = param != null ? param : fresh("const");
        // a parameter stays as it is while the model is exported; anything else may be a pooled buffer, reused later
        float[] data = param != null ? t.data : t.data.clone();
        initializers.add(new Initializer(v, t.shape(), () -> data, null));
        constants.put(t, v);
        return v;
    }

    /**
     * A constant derived from a tensor (a transposed weight, some of its rows). From a parameter it is named after it
     * plus {@code suffix}, made once per name, and {@code data} runs only when the model is written (parameters stay as
     * they are until then); from any other tensor {@code data} runs now.
     */
    public String derived(Tensor source, String suffix, java.util.function.Supplier<float[]> data, int... shape) {
        String base = paramNames.get(source);
        if (base == null) return constant(data.get(), shape);
        return derived.computeIfAbsent(base + suffix, n -> {
            initializers.add(new Initializer(n, shape.clone(), data, null));
            return n;
        });
    }

    /** A float32 constant. */
    public String constant(float[] data, int... shape) {
        String n = fresh("const");
        float[] copy = data.clone();
        initializers.add(new Initializer(n, shape.clone(), () -> copy, null));
        return n;
    }

    /** A float32 scalar constant (shared per value). */
    public String scalar(float v) {
        return derived.computeIfAbsent("scalar:" + Float.floatToRawIntBits(v), k -> constant(new float[] {v}));
    }

    /** An int64 1-D constant (shapes, axes, indices; shared per value). */
    public String longs(long... v) {
        return derived.computeIfAbsent("longs:" + Arrays.toString(v), k -> {
            String n = fresh("const");
            initializers.add(new Initializer(n, new int[] {v.length}, null, v.clone()));
            return n;
        });
    }

    /** An int64 scalar constant. */
    public String longScalar(long v) {
        return derived.computeIfAbsent("long:" + v, k -> {
            String n = fresh("const");
            initializers.add(new Initializer(n, new int[0], null, new long[] {v}));
            return n;
        });
    }

    /** Reshape to {@code shape}, its leading (batch) dimension written -1; returns the output name. */
    public String reshape(Object x, int... shape) {
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = shape[i];
        if (s.length > 0) s[0] = -1;
        return tmp("Reshape", x, longs(s));
    }

    /** ReduceSum or ReduceMean over {@code axes}: axes are an input from opset 18 (ReduceSum: 13), an attribute before. */
    public String reduce(String type, Object x, boolean keepDims, long... axes) {
        boolean axesInput = type.equals("ReduceSum") ? opset >= 13 : opset >= 18;
        if (axesInput) return tmp(type, x, longs(axes), Attr.i("keepdims", keepDims ? 1 : 0));
        return tmp(type, x, Attr.ints("axes", axes), Attr.i("keepdims", keepDims ? 1 : 0));
    }

    /** Slice along {@code axes} from {@code starts} to {@code ends}. */
    public String slice(Object x, long[] starts, long[] ends, long[] axes) {
        return tmp("Slice", x, longs(starts), longs(ends), longs(axes));
    }

    /** Transpose by {@code perm}. */
    public String transpose(Object x, long... perm) {
        return tmp("Transpose", x, Attr.ints("perm", perm));
    }

    /**
     * Builds a subgraph (a Scan or Loop body): nodes emitted by {@code body} go into {@code g}; names it creates are
     * unique in the whole model, and it may read values of the enclosing graph.
     */
    public Graph subgraph(Graph g, Runnable body) {
        Graph outer = current;
        current = g;
        try {
            body.run();
        } finally {
            current = outer;
        }
        return g;
    }

    /** A name not used before in this trace. */
    public String fresh(String hint) {
        return hint + "_" + (counter++);
    }
}
