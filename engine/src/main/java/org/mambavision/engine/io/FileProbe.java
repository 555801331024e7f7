package org.mambavision.engine.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Cheap looks at a file before a reader is pointed at it, so that a directory or a text file given where a
 * binary file belongs gets a message saying so rather than the reader's confusion about its bytes.
 */
public final class FileProbe {
    private FileProbe() {}

    /** How much of the start of a file decides whether it is text. */
    static final int TEXT_PROBE_BYTES = 512;

    /**
     * Throws {@code "<file>: no such file"} or {@code "<file>: is a directory, not <expected>"} unless
     * {@code file} is a regular file.
     */
    public static void requireFile(Path file, String expected) throws IOException {
        if (Files.isRegularFile(file)) return;
        if (Files.isDirectory(file)) throw new CheckpointFormatException(file, "is a directory, not " + expected);
        throw new NoSuchFileException(file + ": no such file");
    }

    /**
     * The first characters of {@code file} (up to 40, one line, quoted for a message) when its start is text:
     * valid UTF-8 without NUL or control characters other than whitespace. Null for a binary file. Every
     * binary format read here has such bytes near the start (safetensors: the high bytes of its header length,
     * zip: 0x03 0x04), so none of them passes for text.
     */
    public static String textStart(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(TEXT_PROBE_BYTES);
        }
        if (head.length == 0) return null;
        String text;
        try {
            // a multi-byte character cut by the probe's end is not a reason to call the file binary
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(head, 0, utf8Boundary(head))).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') return null;
            if (c == 0x7F) return null;
        }
        String line = text.strip().lines().findFirst().orElse("").strip();
        return "\"" + (line.length() > 40 ? line.substring(0, 40) + "..." : line) + "\"";
    }

    /** Length of the longest prefix of {@code b} that doesn't end inside a UTF-8 multi-byte sequence. */
    private static int utf8Boundary(byte[] b) {
        int n = b.length;
        for (int back = 1; back <= 3 && back <= n; back++) {
            int v = b[n - back] & 0xFF;
            if (v < 0x80) return n;                       // ASCII: complete
            if (v >= 0xC0) {                              // lead byte: complete if its sequence fits
                int len = v >= 0xF0 ? 4 : v >= 0xE0 ? 3 : 2;
                return back >= len ? n : n - back;
            }
        }
        return n;
    }
}
