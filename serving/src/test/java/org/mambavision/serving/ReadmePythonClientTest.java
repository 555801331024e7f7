package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mambavision.serving.ServingFixtures.miniPredictor;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Python v2 client (standard library only) runs against the server as printed. */
class ReadmePythonClientTest {
    @Test
    void readmeSnippetRuns(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int begin = readme.indexOf("<!-- python-client:begin -->"), end = readme.indexOf("<!-- python-client:end -->");
        assertTrue(begin >= 0 && end > begin, "README.md has the python-client markers");
        String block = readme.substring(begin, end);
        String code = block.substring(block.indexOf("```python") + 9, block.lastIndexOf("```"));
        Path script = Files.writeString(dir.resolve("client.py"), code);
        boolean python = Files.isExecutable(Path.of("/usr/bin/python3")) || Files.isExecutable(Path.of("/usr/local/bin/python3"));
        if (!python) {
            if ("true".equals(System.getenv("CI"))) fail("python3 is needed on CI");
            Assumptions.abort("python3 not installed");
        }
        try (InferenceServer s = InferenceServer.start(Map.of("mini", miniPredictor(51)), ServingFixtures.config())) {
            ProcessBuilder pb = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true);
            pb.environment().put("MV_URL", s.url());
            pb.environment().put("MV_MODEL", "mini");
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.matches("(?s)image 0 top class \\d\\nimage 1 top class \\d\\npooled features \\[2, \\d+]\\n"), out);
        }
    }
}
