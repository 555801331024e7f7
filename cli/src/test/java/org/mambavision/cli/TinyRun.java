package org.mambavision.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A one-epoch flat_tiny run on 32 synthetic 32x32 images, trained through the CLI: a finished run directory in seconds. */
final class TinyRun {
    private TinyRun() {}

    /** Trains into {@code saveDir} (as given: relative paths stay relative) and returns the run directory. */
    static Path train(Path saveDir) throws IOException {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(err, true), "train", "--set", "epochs=1", "--set", "dataset_size=32",
                "--set", "img_size=32", "--set", "batch_size=16", "--set", "save_dir=" + saveDir);
        assertEquals(0, code, err.toString());
        try (Stream<Path> runs = Files.list(saveDir)) {
            List<Path> dirs = runs.filter(Files::isDirectory).toList();
            assertEquals(1, dirs.size(), "run directories: " + dirs);
            return dirs.get(0);
        }
    }

    /** Deletes a directory tree (for run directories made relative to the working directory). */
    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
