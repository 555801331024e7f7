package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicWriteTest {
    @TempDir
    Path tmp;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replacesContentAndLeavesNoTemporaryFile() throws IOException {
        Path f = tmp.resolve("a.txt");
        AtomicWrite.writeString(f, "first");
        AtomicWrite.writeString(f, "second");
        assertEquals("second", Files.readString(f));
        assertEquals(List.of("a.txt"), names());
    }

    @Test
    void createsMissingParentDirectories() throws IOException {
        Path f = tmp.resolve("x/y/z.bin");
        AtomicWrite.write(f, new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
    }

    @Test
    void failureMidWriteKeepsOldContentAndCleansUp() throws IOException {
        Path f = tmp.resolve("a.txt");
        AtomicWrite.writeString(f, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicWrite.write(f, out -> {
            out.write("partial new content".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("a.txt"), names());
    }

    @Test
    void guardTurnsFailuresIntoWarnings() throws IOException {
        Path regularFile = Files.writeString(tmp.resolve("file"), "x");
        List<String> warnings = new ArrayList<>();
        assertFalse(Guard.run(warnings::add, "writing report",
                () -> AtomicWrite.writeString(regularFile.resolve("report.html"), "x")));
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
