package org.mambavision.engine.io;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted unpickler for {@code torch.save} state dicts (pickle protocols 0 to 5, the opcodes such files use).
 *
 * <p>It never executes or loads anything named in the pickle. {@code GLOBAL} only builds a {@link Global} name; a call
 * ({@code REDUCE}, {@code NEWOBJ}) does something only for the allow-listed tensor rebuilders and
 * {@code collections.OrderedDict}. Every other call ({@code os.system}, {@code builtins.eval}, {@code argparse.Namespace},
 * numpy scalars, ...) yields an {@link Inert} placeholder that just records its arguments. Tensors are not read here:
 * persistent ids become {@link StorageRef}s and rebuilt tensors {@link TensorRef}s, which {@link TorchCheckpoint}
 * materialises only for the state-dict entries it keeps.
 *
 * <p>The loop is iterative, all lengths are checked against the remaining bytes before allocating, and the pickle
 * value classes compare by identity (so hostile self-referencing containers cannot recurse in hashCode).
 */
final class Unpickler {
    /** A malformed or unsupported pickle; the message names the byte offset. */
    static final class PickleException extends Exception {
        PickleException(String message) {
            super(message);
        }
    }

    static final int MAX_MARK_DEPTH = 10_000;
    static final int MAX_TENSOR_RANK = 64;
    /**
     * Values pushed in all: bounds the memory a hostile pickle can make us hold (tiny opcodes each creating an
     * object). A state dict with optimizer state pushes about 20 values per tensor.
     */
    static final long MAX_VALUES = 20_000_000;

    // ---- pickle values ---------------------------------------------------------------------
    // Python int -> Long or BigInteger, float -> Double, str -> String, bytes -> byte[], bool -> Boolean.

    enum PyNone { NONE; @Override public String toString() { return "None"; } }

    static final class PyTuple {
        final Object[] items;
        PyTuple(Object... items) { this.items = items; }
    }

    static final class PyList {
        final List<Object> items = new ArrayList<>();
    }

    /** dict and OrderedDict (keys keep insertion order). */
    static final class PyDict {
        final Map<Object, Object> map = new LinkedHashMap<>();
    }

    static final class PySet {
        final List<Object> items = new ArrayList<>();
    }

    /** A module-qualified name from GLOBAL / STACK_GLOBAL; never resolved to code. */
    record Global(String module, String name) {
        String qualified() { return module + "." + name; }
    }

    /** The result of calling anything not on the allow-list: arguments and state are recorded, nothing runs. */
    static final class Inert {
        final Object callable;
        final Object args;
        Object state;
        final PyList listItems = new PyList();
        final PyDict dictItems = new PyDict();
        Inert(Object callable, Object args) {
            this.callable = callable;
            this.args = args;
        }
    }

    /** A persistent id ('storage', storage_type, key, location, numel): the zip entry data/key holds numel elements. */
    record StorageRef(String key, DType dtype, String storageType, long numel) {}

    /** A storage whose element type we cannot convert (complex, quantized, ...). */
    record UnsupportedStorage(String storageType) {}

    /** A tensor view on a storage: element offset, sizes and strides in elements. */
    record TensorRef(StorageRef storage, long offset, int[] size, long[] stride) {}

    /** A tensor on an unsupported storage: an error if it ends up in the state dict. */
    record UnsupportedTensor(String storageType) {}

    static final Map<String, DType> STORAGE_TYPES = Map.ofEntries(
            Map.entry("FloatStorage", DType.F32), Map.entry("DoubleStorage", DType.F64),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    // ---- state -----------------------------------------------------------------------------

    private final byte[] in;
    private int pos;
    private int opStart;
    private final ArrayList<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markDepth;
    private final HashMap<Long, Object> memo = new HashMap<>();

    Unpickler(byte[] pickle) {
        this.in = pickle;
    }

    /** Runs the pickle to STOP and returns the top-level object. */
    Object load() throws PickleException {
        try {
            return run();
        } catch (PickleException e) {
            throw e;
        } catch (RuntimeException e) {
            // Safety net: any check missed above still ends as a format error, never a crash.
            throw new PickleException("malformed pickle at byte " + opStart + ": " + e);
        } catch (StackOverflowError e) {
            throw new PickleException("malformed pickle at byte " + opStart + ": structure too deep");
        }
    }

    private Object run() throws PickleException {
        while (true) {
            opStart = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int p = u8();
                    if (p > 5) throw fail("unsupported pickle protocol " + p);
                }
                case 0x95 -> { // FRAME: framing is only a read hint
                    long n = i64();
                    if (n < 0 || n > remaining()) throw fail("frame length " + n + " beyond the end of the data");
                }
                case '.' -> { // STOP
                    if (stack.isEmpty()) throw fail("STOP with an empty stack");
                    return stack.remove(stack.size() - 1);
                }
                case '(' -> pushMark();
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case '}' -> push(new PyDict());
                case ']' -> push(new PyList());
                case ')' -> push(new PyTuple());
                case 0x8f -> push(new PySet());
                case 't' -> push(new PyTuple(popMark().toArray()));
                case 0x85 -> push(new PyTuple(pop()));
                case 0x86 -> { Object b = pop(), a = pop(); push(new PyTuple(a, b)); }
                case 0x87 -> { Object c = pop(), b = pop(), a = pop(); push(new PyTuple(a, b, c)); }
                case 'l' -> { PyList l = new PyList(); l.items.addAll(popMark()); push(l); }
                case 'd' -> { PyDict d = new PyDict(); setItems(d, popMark()); push(d); }
                case 0x91 -> { PySet s = new PySet(); s.items.addAll(popMark()); push(s); } // FROZENSET
                case 's' -> { Object v = pop(), k = pop(); setItems(peek(), List.of(k, v)); }
                case 'u' -> { List<Object> kv = popMark(); setItems(peek(), kv); }
                case 'a' -> { Object v = pop(); append(peek(), List.of(v)); }
                case 'e' -> { List<Object> vs = popMark(); append(peek(), vs); }
                case 0x90 -> { // ADDITEMS
                    List<Object> vs = popMark();
                    if (!(peek() instanceof PySet s)) throw fail("ADDITEMS on a " + describe(peek()));
                    s.items.addAll(vs);
                }
                case 'J' -> push((long) i32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (u8() | (u8() << 8)));
                case 0x8a -> push(littleEndianInt(bytes(u8())));
                case 0x8b -> push(littleEndianInt(bytes(length(i32()))));
                case 'I' -> push(textInt(line()));
                case 'L' -> push(textInt(stripSuffix(line(), "L")));
                case 'G' -> push(Double.longBitsToDouble(i64BigEndian()));
                case 'F' -> push(textFloat(line()));
                case 'X' -> push(utf8(bytes(length(u32()))));
                case 0x8c -> push(utf8(bytes(u8())));
                case 0x8d -> push(utf8(bytes(length(i64()))));
                case 'B' -> push(bytes(length(u32())));
                case 'C' -> push(bytes(u8()));
                case 0x8e, 0x96 -> push(bytes(length(i64()))); // BINBYTES8, BYTEARRAY8
                case 'T' -> push(new String(bytes(length(i32())), StandardCharsets.ISO_8859_1)); // BINSTRING
                case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'N' -> push(PyNone.NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'q' -> memo.put((long) u8(), peek());
                case 'r' -> memo.put(u32(), peek());
                case 'p' -> memo.put(textMemoIndex(line()), peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(u32()));
                case 'g' -> push(memoGet(textMemoIndex(line())));
                case 'c' -> { String module = line(); String name = line(); push(global(module, name)); }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw fail("STACK_GLOBAL needs two strings");
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    if (!(args instanceof PyTuple t)) throw fail("REDUCE arguments are a " + describe(args) + ", not a tuple");
                    push(call(callable, t));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop(), cls = pop();
                    push(construct(cls, args));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop(), args = pop(), cls = pop();
                    Inert obj = new Inert(cls, new PyTuple(args, kwargs));
                    push(isOrderedDict(cls) ? new PyDict() : obj);
                }
                case 'b' -> { // BUILD: state is recorded on placeholders, ignored elsewhere (OrderedDict _metadata)
                    Object state = pop();
                    if (peek() instanceof Inert obj) obj.state = state;
                }
                case 'Q' -> push(persistentLoad(pop())); // BINPERSID
                default -> throw fail(String.format("unknown or unsupported opcode 0x%02x", op));
            }
        }
    }

    // ---- calls: the allow-list ---------------------------------------------------------------

    private static Global global(String module, String name) {
        return new Global(module, name);
    }

    private static boolean isOrderedDict(Object callable) {
        return callable instanceof Global g && g.module.equals("collections") && g.name.equals("OrderedDict");
    }

    private Object call(Object callable, PyTuple args) throws PickleException {
        if (!(callable instanceof Global g)) return new Inert(callable, args);
        Object[] a = args.items;
        switch (g.qualified()) {
            case "collections.OrderedDict":
                return a.length == 0 ? new PyDict() : new Inert(callable, args);
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_tensor":
                return rebuildTensor(a);
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                // A Parameter wraps its data tensor; requires_grad and hooks do not matter for weights.
                return a.length >= 1 && isTensor(a[0]) ? a[0] : new Inert(callable, args);
            case "torch._tensor._rebuild_from_type_v2": {
                // (func, tensor subclass, args, state): only a plain tensor rebuilder may be applied, once.
                if (a.length >= 3 && a[0] instanceof Global f && a[2] instanceof PyTuple inner && isTensorRebuilder(f)) {
                    return call(f, inner);
                }
                return new Inert(callable, args);
            }
            default:
                return new Inert(callable, args);
        }
    }

    private static boolean isTensorRebuilder(Global f) {
        return f.module.equals("torch._utils") && (f.name.equals("_rebuild_tensor_v2") || f.name.equals("_rebuild_tensor")
                || f.name.equals("_rebuild_parameter") || f.name.equals("_rebuild_parameter_with_state"));
    }

    private static boolean isTensor(Object o) {
        return o instanceof TensorRef || o instanceof UnsupportedTensor;
    }

    private Object construct(Object cls, Object args) {
        return isOrderedDict(cls) ? new PyDict() : new Inert(cls, args);
    }

    /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None). */
    private Object rebuildTensor(Object[] a) throws PickleException {
        if (a.length < 4) throw fail("tensor rebuild with " + a.length + " arguments, expected at least 4");
        if (a[0] instanceof UnsupportedStorage u) return new UnsupportedTensor(u.storageType);
        if (!(a[0] instanceof StorageRef storage)) throw fail("tensor rebuild on a " + describe(a[0]) + ", not a storage");
        long offset = nonNegativeLong(a[1], "storage offset");
        if (!(a[2] instanceof PyTuple size) || !(a[3] instanceof PyTuple stride)) throw fail("tensor size and stride must be tuples");
        if (size.items.length != stride.items.length) {
            throw fail("tensor size has " + size.items.length + " dimensions but stride has " + stride.items.length);
        }
        if (size.items.length > MAX_TENSOR_RANK) throw fail("tensor rank " + size.items.length + " is too large");
        int[] dims = new int[size.items.length];
        long[] strides = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            long d = nonNegativeLong(size.items[i], "tensor size");
            if (d > Integer.MAX_VALUE) throw fail("tensor dimension " + d + " is too large");
            dims[i] = (int) d;
            strides[i] = nonNegativeLong(stride.items[i], "tensor stride");
        }
        return new TensorRef(storage, offset, dims, strides);
    }

    /** ('storage', storage_type, key, location, numel) -> the storage's zip entry key, dtype and element count. */
    private Object persistentLoad(Object pid) throws PickleException {
        if (!(pid instanceof PyTuple t) || t.items.length < 5 || !"storage".equals(t.items[0])) {
            throw fail("persistent id is not ('storage', type, key, location, numel)");
        }
        Object type = t.items[1];
        if (!(t.items[2] instanceof String key)) throw fail("storage key is a " + describe(t.items[2]) + ", not a string");
        long numel = nonNegativeLong(t.items[4], "storage size");
        String typeName = type instanceof Global g ? g.qualified() : describe(type);
        DType dtype = type instanceof Global g && g.module.equals("torch") ? STORAGE_TYPES.get(g.name) : null;
        if (dtype == null) return new UnsupportedStorage(typeName);
        return new StorageRef(key, dtype, typeName, numel);
    }

    // ---- containers ----------------------------------------------------------------------------

    private void setItems(Object target, List<Object> kv) throws PickleException {
        if (kv.size() % 2 != 0) throw fail("odd number of items for a dict");
        Map<Object, Object> map;
        if (target instanceof PyDict d) map = d.map;
        else if (target instanceof Inert obj) map = obj.dictItems.map; // e.g. defaultdict: kept, never run
        else throw fail("SETITEM on a " + describe(target));
        for (int i = 0; i < kv.size(); i += 2) map.put(kv.get(i), kv.get(i + 1));
    }

    private void append(Object target, List<Object> values) throws PickleException {
        if (target instanceof PyList l) l.items.addAll(values);
        else if (target instanceof Inert obj) obj.listItems.items.addAll(values);
        else throw fail("APPEND on a " + describe(target));
    }

    // ---- stack -----------------------------------------------------------------------------------

    private long pushes;

    private void push(Object o) throws PickleException {
        if (++pushes > MAX_VALUES) throw fail("more than " + MAX_VALUES + " values: refusing to build it");
        stack.add(o);
    }

    private Object pop() throws PickleException {
        int floor = markDepth > 0 ? marks[markDepth - 1] : 0;
        if (stack.size() <= floor) throw fail("stack underflow");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws PickleException {
        int floor = markDepth > 0 ? marks[markDepth - 1] : 0;
        if (stack.size() <= floor) throw fail("stack underflow");
        return stack.get(stack.size() - 1);
    }

    private void pushMark() throws PickleException {
        if (markDepth == MAX_MARK_DEPTH) throw fail("nesting deeper than " + MAX_MARK_DEPTH + " marks");
        if (markDepth == marks.length) marks = Arrays.copyOf(marks, marks.length * 2);
        marks[markDepth++] = stack.size();
    }

    private List<Object> popMark() throws PickleException {
        if (markDepth == 0) throw fail("no MARK on the stack");
        int k = marks[--markDepth];
        List<Object> tail = stack.subList(k, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Object memoGet(long index) throws PickleException {
        Object o = memo.get(index);
        if (o == null && !memo.containsKey(index)) throw fail("memo index " + index + " was never stored");
        return o;
    }

    // ---- reading bytes -------------------------------------------------------------------------------

    private int remaining() {
        return in.length - pos;
    }

    private void need(long n) throws PickleException {
        if (n > remaining()) throw fail("truncated pickle: needs " + n + " more bytes, " + remaining() + " left");
    }

    private int u8() throws PickleException {
        need(1);
        return in[pos++] & 0xFF;
    }

    private int i32() throws PickleException {
        need(4);
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8 | (in[pos + 2] & 0xFF) << 16 | (in[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long u32() throws PickleException {
        return i32() & 0xFFFFFFFFL;
    }

    private long i64() throws PickleException {
        long lo = u32(), hi = u32();
        return lo | hi << 32;
    }

    private long i64BigEndian() throws PickleException {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | (in[pos++] & 0xFF);
        return v;
    }

    /** A length field, checked against the bytes left before anything is allocated. */
    private int length(long n) throws PickleException {
        if (n < 0) throw fail("negative length " + n);
        need(n);
        return (int) n;
    }

    private byte[] bytes(int n) throws PickleException {
        need(n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + n);
        pos += n;
        return b;
    }

    /** A text line (protocol 0 arguments and GLOBAL names), without its newline. */
    private String line() throws PickleException {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') pos++;
        if (pos >= in.length) throw fail("truncated pickle: unterminated line");
        String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Object littleEndianInt(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object textInt(String s) throws PickleException {
        if (s.equals("00")) return Boolean.FALSE;
        if (s.equals("01")) return Boolean.TRUE;
        try {
            BigInteger v = new BigInteger(s.strip());
            return v.bitLength() < 64 ? (Object) v.longValue() : v;
        } catch (NumberFormatException e) {
            throw fail("bad integer '" + abbreviate(s) + "'");
        }
    }

    private Object textFloat(String s) throws PickleException {
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            throw fail("bad float '" + abbreviate(s) + "'");
        }
    }

    private long textMemoIndex(String s) throws PickleException {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw fail("bad memo index '" + abbreviate(s) + "'");
        }
    }

    private static String stripSuffix(String s, String suffix) {
        return s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
    }

    private long nonNegativeLong(Object o, String what) throws PickleException {
        if (!(o instanceof Long l) || l < 0) throw fail(what + " is " + describe(o) + ", not a non-negative integer");
        return l;
    }

    private PickleException fail(String message) {
        return new PickleException(message + " (data.pkl byte " + opStart + ")");
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** A short, non-recursive description of a pickle value for messages. */
    static String describe(Object o) {
        if (o == null) return "null";
        if (o instanceof String s) return "str '" + abbreviate(s) + "'";
        if (o instanceof Long || o instanceof BigInteger) return "int " + abbreviate(o.toString());
        if (o instanceof Double || o instanceof Boolean || o instanceof PyNone) return o.toString();
        if (o instanceof byte[] b) return "bytes of length " + b.length;
        if (o instanceof PyTuple t) return "tuple of " + t.items.length;
        if (o instanceof PyList l) return "list of " + l.items.size();
        if (o instanceof PyDict d) return "dict of " + d.map.size();
        if (o instanceof PySet s) return "set of " + s.items.size();
        if (o instanceof Global g) return "global " + g.qualified();
        if (o instanceof Inert i) return "placeholder for " + (i.callable instanceof Global g ? g.qualified() + "(...)" : "a call");
        if (o instanceof StorageRef s) return "storage " + s.storageType;
        if (o instanceof TensorRef t) return "tensor " + Arrays.toString(t.size);
        return o.getClass().getSimpleName();
    }
}
