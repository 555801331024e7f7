package org.mambavision.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mambavision.serving.ServingFixtures.*;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.inference.Predictor;
import java.util.Base64;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page at {@code /} in a real browser: Debian's chromium, headless, through its chromedriver. Off CI the test
 * skips when they are not installed; on CI ({@code CI=true}, where .ci/run installs them) it fails instead.
 */
class BrowserPageTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @Test
    void pickAnImageAndSeeTheTopFiveWithLatency(@TempDir Path dir) throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!present) {
            if ("true".equals(System.getenv("CI"))) fail("CI needs chromium and chromium-driver (.ci/run installs them)");
            Assumptions.abort("chromium or chromedriver not installed (apt-get install chromium chromium-driver)");
        }
        Predictor p = miniPredictor(41);
        byte[] png = png(96, 72, 8);
        Path image = Files.write(dir.resolve("cat.png"), png);
        List<Predictor.Prediction> want = p.predict(ImageIO.read(new ByteArrayInputStream(png)), 5);
        try (InferenceServer s = InferenceServer.start(Map.of("mini", p, "other", miniPredictor(42)), config())) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--user-data-dir=" + dir.resolve("profile"));
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
            WebDriver driver = new ChromeDriver(service, options);
            try {
                driver.get(s.url() + "/");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60));
                wait.until(d -> d.findElements(By.cssSelector("#model option")).size() == 2);
                new org.openqa.selenium.support.ui.Select(driver.findElement(By.id("model"))).selectByValue("mini");
                driver.findElement(By.id("file")).sendKeys(image.toString());
                wait.until(d -> d.findElements(By.cssSelector("#result .row")).size() == 5);
                List<WebElement> rows = driver.findElements(By.cssSelector("#result .row"));
                for (int i = 0; i < 5; i++) {
                    assertEquals(want.get(i).label(), rows.get(i).findElement(By.className("label")).getText());
                    String pct = rows.get(i).findElement(By.className("pct")).getText();
                    assertEquals(fmt("%.1f%%", 100 * want.get(i).probability()), pct);
                    String width = rows.get(i).findElement(By.className("bar")).getAttribute("style");
                    assertTrue(width.contains("width: " + pct.replace("%", "")), width);
                }
                String latency = driver.findElement(By.id("latency")).getText();
                assertTrue(latency.matches("latency \\d+ ms \\(server \\d+ ms\\)"), latency);
                assertEquals("", driver.findElement(By.id("error")).getText());

                // dropping a file: a drop event carrying the other image, as the browser makes it from a dragged file
                byte[] other = null;
                List<Predictor.Prediction> wantOther = want;
                for (long seed = 9; wantOther.stream().map(Predictor.Prediction::label).toList()
                        .equals(want.stream().map(Predictor.Prediction::label).toList()); seed++) { // an image ranked differently
                    other = png(64, 64, seed);
                    wantOther = p.predict(ImageIO.read(new ByteArrayInputStream(other)), 5);
                }
                ((JavascriptExecutor) driver).executeScript("""
                        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
                        const dt = new DataTransfer();
                        dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
                        document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
                        """, Base64.getEncoder().encodeToString(other));
                // the page clears the old rows as the drop is handled, so five rows again are the dropped image's
                wait.until(d -> d.findElements(By.cssSelector("#result .row")).size() == 5);
                List<WebElement> dropped = driver.findElements(By.cssSelector("#result .row"));
                for (int i = 0; i < 5; i++) assertEquals(wantOther.get(i).label(), dropped.get(i).findElement(By.className("label")).getText());
            } finally {
                driver.quit();
            }
        }
    }
}
