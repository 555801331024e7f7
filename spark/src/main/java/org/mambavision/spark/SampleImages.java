package org.mambavision.spark;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.mambavision.inference.image.Image;
import org.mambavision.training.data.SyntheticDataset;

/**
 * Writes {@code N} PNG images of the synthetic dataset (224x224, class patterns with noise) to a folder: inputs for
 * {@code scripts/standalone-cluster.sh} and the spark predict benchmark. {@code java -cp mambavision-spark.jar
 * org.mambavision.spark.SampleImages DIR N}
 */
public final class SampleImages {
    private SampleImages() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        Files.createDirectories(dir);
        SyntheticDataset data = new SyntheticDataset(n, 10, 224, 3, 7, 0.3f);
        for (int i = 0; i < n; i++) {
            Image img = data.get(i).image();
            BufferedImage bi = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.height(); y++) {
                for (int x = 0; x < img.width(); x++) {
                    int rgb = 0;
                    for (int c = 0; c < 3; c++) rgb = rgb << 8 | Math.round(Math.clamp(img.get(c, y, x), 0f, 1f) * 255);
                    bi.setRGB(x, y, rgb);
                }
            }
            ImageIO.write(bi, "png", dir.resolve(String.format("sample%05d.png", i)).toFile());
        }
    }
}
