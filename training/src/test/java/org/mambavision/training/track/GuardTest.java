package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.io.AtomicFiles;

class GuardTest {
    @TempDir
    Path tmp;

    @Test
    void guardTurnsFailuresIntoWarnings() throws IOException {
        Path regularFile = Files.writeString(tmp.resolve("file"), "x");
        List<String> warnings = new ArrayList<>();
        assertFalse(Guard.run(warnings::add, "writing report",
                () -> AtomicFiles.writeString(regularFile.resolve("report.html"), "x")));
        assertTrue(Guard.run(warnings::add, "nothing", () -> {}));
        assertFalse(Guard.run(m -> { throw new IllegalStateException("broken sink"); }, "x",
                () -> { throw new RuntimeException("boom"); }));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("writing report failed: "), warnings.get(0));
        assertThrows(OutOfMemoryError.class, () -> Guard.run(warnings::add, "x", () -> {
            throw new OutOfMemoryError("fatal stays fatal");
        }));
    }
}
