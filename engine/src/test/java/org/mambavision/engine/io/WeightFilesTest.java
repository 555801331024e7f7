package org.mambavision.engine.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Tensor;

/** Files that are not weights are named and described before any reader gets to misread them. */
class WeightFilesTest {
    @TempDir
    Path tmp;

    static String message(Path file) {
        IOException e = assertThrows(IOException.class, () -> WeightFiles.load(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString()), m);
        return m;
    }

    @Test
    void directory() throws IOException {
        String m = message(tmp);
        assertTrue(m.contains("is a directory, not a weights file"), m);
        assertFalse(m.contains("best.safetensors"), m);
    }

    @Test
    void runDirectoryNamesItsCheckpoints() throws IOException {
        Safetensors.write(tmp.resolve("best.safetensors"), Map.of("w", Tensor.zeros(2)), Map.of());
        Safetensors.write(tmp.resolve("last.safetensors"), Map.of("w", Tensor.zeros(2)), Map.of());
        String m = message(tmp);
        assertTrue(m.contains("is a directory") && m.contains("best.safetensors and last.safetensors")
                && m.contains(tmp.resolve("best.safetensors").toString()), m);
        IOException direct = assertThrows(IOException.class, () -> Safetensors.open(tmp));
        assertTrue(direct.getMessage().contains("is a directory, not a safetensors file; it holds best.safetensors"), direct.getMessage());
    }

    @Test
    void textFileIsCalledOneAndQuoted() throws IOException {
        Path txt = tmp.resolve("model.safetensors");
        // the same bytes, read as a safetensors header length, are 6224364381926137891-ish: the old message
        Files.writeString(txt, "Some notes about the model\nsecond line, caf\u00e9\n");
        String m = message(txt);
        assertTrue(m.contains("is a text file") && m.contains("\"Some notes about the model\"") && m.contains("not a weights file"), m);
        IOException direct = assertThrows(IOException.class, () -> Safetensors.open(txt));
        assertTrue(direct.getMessage().contains("is a text file"), direct.getMessage());
    }

    @Test
    void unrecognisedBinaryAndMissing() throws IOException {
        Path bin = tmp.resolve("x.bin");
        Files.write(bin, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        assertTrue(message(bin).contains("neither a safetensors file nor a torch checkpoint"));
        Path missing = tmp.resolve("nope.safetensors");
        assertTrue(message(missing).contains("no such file"));
    }

    @Test
    void realFilesStillLoad() throws IOException {
        Path st = tmp.resolve("ok.safetensors");
        Safetensors.write(st, Map.of("model.w", Tensor.full(2f, 3)), Map.of());
        assertFalse(WeightFiles.check(st));
        assertEquals(2f, WeightFiles.load(st).get("w").data[2]);
    }

    @Test
    void textProbe() throws IOException {
        Path p = tmp.resolve("t");
        Files.writeString(p, "x".repeat(FileProbe.TEXT_PROBE_BYTES - 1) + "\u00e9"); // a 2-byte character cut by the probe
        assertNotNull(FileProbe.textStart(p));
        Files.write(p, new byte[] {'a', 'b', 0, 'c'});
        assertNull(FileProbe.textStart(p));
        Files.write(p, new byte[0]);
        assertNull(FileProbe.textStart(p));
    }
}
