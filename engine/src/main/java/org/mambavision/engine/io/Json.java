package org.mambavision.engine.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's JSON (no dependency): a strict parser (safetensors headers, metrics logs) and a writer (metrics
 * logs, {@code --json} output).
 *
 * <p>Parsing: objects become {@code LinkedHashMap<String, Object>} in file order (duplicate keys are an error), arrays
 * {@code List<Object>}, integers that fit {@code long} become {@link Long}, other numbers {@link Double},
 * {@code null} becomes Java null. Nesting is capped so hostile input cannot overflow the stack.
 *
 * <p>Writing: maps, iterables, {@code double[]}, strings, numbers, booleans and null; other objects as their string.
 * Non-finite numbers are written as null because JSON has no NaN.
 */
public final class Json {
    static final int MAX_DEPTH = 64;

    /** A syntax error, with the character offset where it was found. */
    public static final class ParseException extends Exception {
        ParseException(String message, int pos) {
            super(message + " at character " + pos);
        }
    }

    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; only whitespace may follow it. */
    public static Object parse(String text) throws ParseException {
        Json p = new Json(text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) throw new ParseException("unexpected '" + printable(text.charAt(p.pos)) + "' after the value", p.pos);
        return v;
    }

    private Object value(int depth) throws ParseException {
        if (depth > MAX_DEPTH) throw new ParseException("nesting deeper than " + MAX_DEPTH, pos);
        if (pos >= s.length()) throw new ParseException("unexpected end of text", pos);
        char c = s.charAt(pos);
        switch (c) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case 't': literal("true"); return Boolean.TRUE;
            case 'f': literal("false"); return Boolean.FALSE;
            case 'n': literal("null"); return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw new ParseException("unexpected '" + printable(c) + "'", pos);
        }
    }

    private Map<String, Object> object(int depth) throws ParseException {
        pos++; // '{'
        Map<String, Object> m = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return m;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw new ParseException("expected a string key", pos);
            int keyPos = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            if (m.containsKey(key)) throw new ParseException("duplicate key \"" + key + "\"", keyPos);
            m.put(key, value(depth + 1));
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == '}') return m;
            if (c != ',') throw new ParseException("expected ',' or '}' in object", pos - 1);
        }
    }

    private List<Object> array(int depth) throws ParseException {
        pos++; // '['
        List<Object> a = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return a;
        }
        while (true) {
            skipWhitespace();
            a.add(value(depth + 1));
            skipWhitespace();
            char c = peek();
            pos++;
            if (c == ']') return a;
            if (c != ',') throw new ParseException("expected ',' or ']' in array", pos - 1);
        }
    }

    private String string() throws ParseException {
        int start = pos;
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= s.length()) throw new ParseException("unterminated string", start);
            char c = s.charAt(pos);
            if (c == '"') {
                String tail = s.substring(runStart, pos);
                pos++;
                return sb == null ? tail : sb.append(tail).toString();
            }
            if (c < 0x20) throw new ParseException("control character in string", pos);
            if (c != '\\') {
                pos++;
                continue;
            }
            if (sb == null) sb = new StringBuilder();
            sb.append(s, runStart, pos);
            pos++;
            if (pos >= s.length()) throw new ParseException("unterminated escape", pos);
            char e = s.charAt(pos++);
            switch (e) {
                case '"': sb.append('"'); break;
                case '\\': sb.append('\\'); break;
                case '/': sb.append('/'); break;
                case 'b': sb.append('\b'); break;
                case 'f': sb.append('\f'); break;
                case 'n': sb.append('\n'); break;
                case 'r': sb.append('\r'); break;
                case 't': sb.append('\t'); break;
                case 'u': {
                    if (pos + 4 > s.length()) throw new ParseException("short \\u escape", pos);
                    int cp = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(s.charAt(pos + i), 16);
                        if (d < 0) throw new ParseException("bad hex digit in \\u escape", pos + i);
                        cp = cp * 16 + d;
                    }
                    pos += 4;
                    sb.append((char) cp);
                    break;
                }
                default: throw new ParseException("bad escape '\\" + printable(e) + "'", pos - 1);
            }
            runStart = pos;
        }
    }

    private Object number() throws ParseException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw new ParseException("bad number", start);
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) throw new ParseException("bad number: digit expected after '.'", pos);
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw new ParseException("bad number: digit expected in exponent", pos);
            while (isDigit(peek())) pos++;
        }
        String text = s.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException tooBig) {
                // falls through to a double: callers that need an exact integer reject it
            }
        }
        return Double.parseDouble(text);
    }

    private void literal(String word) throws ParseException {
        if (!s.startsWith(word, pos)) throw new ParseException("bad literal, expected " + word, pos);
        pos += word.length();
    }

    private void expect(char c) throws ParseException {
        if (peek() != c) throw new ParseException("expected '" + c + "'", pos);
        pos++;
    }

    /** The current character, or 0 at the end (0 is never valid where a token is expected). */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : 0;
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c);
    }

    /** {@code text} as a JSON string literal, quotes included. */
    public static String quote(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2);
        quote(sb, text);
        return sb.toString();
    }

    static void quote(StringBuilder sb, String text) {
        sb.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
            }
        }
        sb.append('"');
    }

    /** {@code value} as JSON text on one line ({@code ", "} and {@code ": "} between items). */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Boolean b) {
            sb.append(b);
        } else if (v instanceof Number n) {
            String num = number(n);
            sb.append(num.isEmpty() ? "null" : num);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            sb.append('[');
            boolean first = true;
            for (Object o : it) {
                if (!first) sb.append(", ");
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (v instanceof double[] a) {
            List<Object> l = new ArrayList<>();
            for (double d : a) l.add(d);
            write(sb, l);
        } else {
            quote(sb, v.toString());
        }
    }

    /** Shortest text that reads back to the same value; empty for NaN and infinities. */
    public static String number(Number n) {
        if (n instanceof Double d) return Double.isFinite(d) ? Double.toString(d) : "";
        // A float printed through double would show binary noise (0.1f -> 0.10000000149011612).
        if (n instanceof Float f) return Float.isFinite(f) ? Float.toString(f) : "";
        return n.toString();
    }
}
