package org.mambavision.training.config;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A value nested thousands deep is one clear config error, not a StackOverflowError from the YAML composer. */
class ConfigNestingTest {
    static String nested(int depth) {
        return "[".repeat(depth) + "1" + "]".repeat(depth);
    }

    @Test
    void deepFileValueNamesFileAndLine(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("deep.yaml"), "epochs: 2\nbetas: " + nested(10_000) + "\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f));
        assertTrue(e.getMessage().startsWith("config " + f + ", line 2, column "), e.getMessage());
        assertTrue(e.getMessage().contains("nested more than " + ConfigLoader.MAX_NESTING + " deep"), e.getMessage());
    }

    @Test
    void deepSetValueNamesTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("betas=" + nested(10_000))));
        assertTrue(e.getMessage().startsWith("config --set betas, line 1, column "), e.getMessage());
    }

    @Test
    void nestingAtTheLimitStillReachesTheKeyCheck() {
        // the depth check refuses nothing a real config has: a shallow list gets the usual type error
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, List.of("betas=" + nested(ConfigLoader.MAX_NESTING))));
        assertTrue(e.getMessage().startsWith("config key 'betas'"), e.getMessage());
    }
}
