package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class SystemPropertyTest {
    @Test
    void eachPropertyIsNamedOnceAndDocumented() {
        Set<String> keys = new HashSet<>();
        for (SystemProperty p : SystemProperty.values()) {
            assertTrue(p.key.startsWith("mv."), p.key);
            assertTrue(keys.add(p.key), "listed twice: " + p.key);
            assertFalse(p.doc.isBlank(), p.key + " has no description");
        }
    }

    @Test
    void readsTheJvmProperty() {
        Parallel.threads(); // the pool has read its setting: changing the property here cannot reach it
        String key = SystemProperty.SPIN_MICROS.key, before = System.getProperty(key);
        try {
            System.setProperty(key, "17");
            assertEquals(17, SystemProperty.SPIN_MICROS.longValue(1000));
            System.clearProperty(key);
            assertEquals(1000, SystemProperty.SPIN_MICROS.longValue(1000));
            assertTrue(SystemProperty.SPIN_MICROS.booleanValue(true));
            System.setProperty(key, "False");
            assertFalse(SystemProperty.SPIN_MICROS.booleanValue(true));
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }

    /** A property read anywhere else would be one the list does not show: every module's main code goes through it. */
    @Test
    void noOtherCodeReadsAnMvProperty() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent(); // Maven runs tests from the module folder
        Pattern read = Pattern.compile("(getProperty|getInteger|getLong|getBoolean)\\(\\s*\"(mv\\.[^\"]*)\"");
        List<String> found = new ArrayList<>();
        int files = 0;
        try (Stream<Path> modules = Files.list(root)) {
            for (Path src : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> s = Files.walk(src)) {
                    for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                        files++;
                        Matcher m = read.matcher(Files.readString(f));
                        while (m.find()) found.add(root.relativize(f) + ": " + m.group(2));
                    }
                }
            }
        }
        assertTrue(files > 100, "found the sources of every module: " + files + " files under " + root);
        assertEquals(List.of(), found, "read these through SystemProperty (and list them there)");
    }
}
