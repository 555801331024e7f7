package org.mambavision.models;

import java.nio.file.Path;
import org.mambavision.engine.Golden;
import org.mambavision.models.mambavision.MambaVision;

/** The golden cases of the models module's tests, for other modules' tests: the model with its official weights. */
public final class GoldenCases {
    private GoldenCases() {}

    /** The folder of golden case {@code name} (mini, mini_ls), or null without ../shared/golden. */
    public static Path dirOrNull(String name) {
        Path g = Golden.dirOrNull();
        return g == null ? null : g.resolve(name);
    }

    /** The official model of a golden case with its weights loaded (every tensor present). */
    public static MambaVision load(Path dir) throws Exception {
        GoldenCase c = GoldenCase.read(dir);
        return GoldenModelTest.load(c, "weights.safetensors");
    }
}
