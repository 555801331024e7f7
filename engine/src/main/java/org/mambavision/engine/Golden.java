package org.mambavision.engine;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared/golden} for tests. On a user's machine without it, golden tests skip;
 * on CI ({@code CI=true}) a missing folder is a failure, never a skip.
 */
public final class Golden {
    private Golden() {}

    /** The golden folder, or null when absent on a non-CI machine. Throws on CI when absent. */
    public static Path dirOrNull() {
        String prop = SystemProperty.GOLDEN.value();
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared", "golden");
        if (!Files.isDirectory(p)) {
            // Maven runs module tests from the module folder: try one level further up.
            Path alt = Path.of("..", "..", "shared", "golden");
            if (Files.isDirectory(alt)) p = alt;
        }
        if (Files.isDirectory(p)) return p.toAbsolutePath().normalize();
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("golden vectors not found at " + p.toAbsolutePath() + " (required on CI)");
        }
        return null;
    }
}
