package org.mambavision.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesAndReadsBackEscapesNestingAndNonFinite() throws Json.ParseException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "a\"b\\c\nd\u0001é");
        m.put("list", List.of(1, 2.5, true));
        m.put("inf", Double.POSITIVE_INFINITY);
        m.put("f", 0.1f);
        String text = Json.write(m);
        assertTrue(text.contains("\"f\": 0.1"), text);
        @SuppressWarnings("unchecked")
        Map<String, Object> back = (Map<String, Object>) Json.parse(text);
        assertEquals(m.get("s"), back.get("s"));
        assertEquals(List.of(1L, 2.5, true), back.get("list"));
        assertNull(back.get("inf"));
        assertEquals(0.1, back.get("f"));
    }

    @Test
    void parseIsStrict() {
        for (String bad : new String[] {"{\"a\": 1, \"a\": 2}", "[1, 2", "{\"a\" 1}", "01", "1.", "tru", "[1] x", "\"\u0001\""}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void nullIsJavaNull() throws Json.ParseException {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse("{\"a\": null, \"b\": [null]}");
        assertTrue(m.containsKey("a"));
        assertNull(m.get("a"));
        assertEquals(java.util.Arrays.asList((Object) null), m.get("b"));
    }
}
