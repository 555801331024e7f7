package org.mambavision.engine.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser and string quoter for safetensors headers (no dependency).
 *
 * <p>Objects become {@code LinkedHashMap<String, Object>} in file order (duplicate keys are an error), arrays
 * {@code List<Object>}, integers that fit {@code long} become {@link Long}, other numbers {@link Double},
 * {@code null} becomes {@link #NULL}. Nesting is capped so hostile input cannot overflow the stack.
 */
final class Json {
    /** The JSON {@code null} value (maps cannot hold Java null distinctly). */
    static final Object NULL = new Object() {
        @Override public String toString() { return "null"; }
    };

    static final int MAX_DEPTH = 64;

    /** A syntax error, with the character offset where it was found. */
    static final class ParseException extends Exception {
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
    static Object parse(String text) throws ParseException {
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
            case 'n': literal("null"); return NULL;
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
            Object v = value(depth + 1);
            if (m.putIfAbsent(key, v) != null) throw new ParseException("duplicate key \"" + key + "\"", keyPos);
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
    static String quote(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
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
        return sb.append('"').toString();
    }
}
