package org.mambavision.engine.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mambavision.engine.Tensor;

/** Loads a state dict from any supported weight file, recognised by content rather than by name. */
public final class WeightFiles {
    private WeightFiles() {}

    /** Wrapper prefixes that training code adds in front of the model's own names (DDP, EMA wrappers, encoders). */
    static final List<String> WRAPPER_PREFIXES = List.of("module.", "model.", "encoder.");

    /**
     * The tensors of a torch.save zip checkpoint or a safetensors file, as float32, with wrapper prefixes stripped.
     * Every problem with the content is a {@link CheckpointFormatException}.
     */
    public static Map<String, Tensor> load(Path file) throws IOException {
        if (check(file)) return TorchCheckpoint.readStateDict(file);
        try (Safetensors st = Safetensors.open(file)) {
            return stripPrefixes(st.tensors());
        } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(file, e.getMessage(), e);
        }
    }

    /** What the messages below say a weights file is. */
    static final String EXPECTED = "a weights file (safetensors, or a torch checkpoint such as .pth/.pth.tar)";

    /**
     * Checks that {@code file} is a weights file of a supported kind before any reader parses it, with one clear
     * message naming the file otherwise: missing, a directory (naming the checkpoints in it, if it is a run
     * directory), a text file, a legacy torch pickle, or content that is neither safetensors nor a torch zip.
     * Returns true for a torch zip checkpoint, false for (what starts like) safetensors.
     */
    public static boolean check(Path file) throws IOException {
        requireNotDirectory(file, EXPECTED);
        FileProbe.requireFile(file, EXPECTED);
        String text = FileProbe.textStart(file);
        if (text != null) throw new CheckpointFormatException(file, "is a text file (it starts " + text + "), not " + EXPECTED);
        byte[] magic;
        try (InputStream in = Files.newInputStream(file)) {
            magic = in.readNBytes(9);
        }
        if (magic.length >= 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) return true;
        if (magic.length >= 2 && (magic[0] & 0xFF) == 0x80 && magic[1] >= 2 && magic[1] <= 5) {
            throw new CheckpointFormatException(file, "legacy (pre-1.6) torch.save format is not supported;"
                    + " re-save it with a recent PyTorch or convert it to safetensors");
        }
        // safetensors: an 8-byte little-endian header length, then the JSON header, which opens with '{'
        if (magic.length == 9) {
            long headerLen = ByteBuffer.wrap(magic, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLen < 0 || headerLen > Safetensors.MAX_HEADER_BYTES || magic[8] != '{') {
                throw new CheckpointFormatException(file, "is neither a safetensors file nor a torch checkpoint (unrecognised content); expected "
                        + EXPECTED);
            }
        }
        return false;
    }

    /**
     * Throws {@code "<file>: is a directory, not <expected>"} for a directory, naming the checkpoints in it when it is
     * a training run's directory (best.safetensors, last.safetensors).
     */
    static void requireNotDirectory(Path file, String expected) throws IOException {
        if (!Files.isDirectory(file)) return;
        List<String> inside = new java.util.ArrayList<>();
        for (String name : List.of("best.safetensors", "last.safetensors")) if (Files.isRegularFile(file.resolve(name))) inside.add(name);
        throw new CheckpointFormatException(file, "is a directory, not " + expected
                + (inside.isEmpty() ? "" : "; it holds " + String.join(" and ", inside) + ": pass one of them, e.g. " + file.resolve(inside.get(0))));
    }

    /**
     * Strips {@code module.}, {@code model.} or {@code encoder.} from the names while every name starts with the same
     * one of them (repeatedly, so {@code module.model.x} becomes {@code x}). A prefix shared by only some names is
     * kept, so no two entries can collapse onto one name.
     */
    public static Map<String, Tensor> stripPrefixes(Map<String, Tensor> tensors) {
        Map<String, Tensor> cur = tensors;
        boolean stripped = true;
        while (stripped && !cur.isEmpty()) {
            stripped = false;
            for (String p : WRAPPER_PREFIXES) {
                if (cur.keySet().stream().allMatch(k -> k.startsWith(p) && k.length() > p.length())) {
                    Map<String, Tensor> next = new LinkedHashMap<>();
                    for (Map.Entry<String, Tensor> e : cur.entrySet()) next.put(e.getKey().substring(p.length()), e.getValue());
                    cur = next;
                    stripped = true;
                    break;
                }
            }
        }
        return cur == tensors ? new LinkedHashMap<>(tensors) : cur;
    }
}
