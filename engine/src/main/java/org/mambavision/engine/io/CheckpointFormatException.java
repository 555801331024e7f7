package org.mambavision.engine.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A weight file that cannot be read: truncated, malformed, hostile or of an unsupported kind.
 * The message always names the file and the problem, as {@code "<file>: <problem>"}.
 */
public class CheckpointFormatException extends IOException {
    private final transient Path file;

    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }
}
