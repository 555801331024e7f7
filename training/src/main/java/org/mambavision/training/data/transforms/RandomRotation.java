package org.mambavision.training.data.transforms;

import org.mambavision.inference.image.Transform;

import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/** torchvision's RandomRotation(degrees): angle uniform in [-degrees, degrees], about the centre, nearest, fill 0. */
public final class RandomRotation implements Transform {
    private final double degrees;

    public RandomRotation(double degrees) {
        if (degrees < 0) throw new IllegalArgumentException("RandomRotation: degrees must be >= 0, got " + degrees);
        this.degrees = degrees;
    }

    @Override
    public Image apply(Image img, SplittableRandom rng) {
        double angle = -degrees + 2 * degrees * rng.nextDouble();
        return PixelOps.affine(img, PixelOps.rotation(angle, img.height(), img.width()), false, new float[img.channels()]);
    }
}
