package org.mambavision.inference.image;

import java.util.List;
import java.util.SplittableRandom;
import org.mambavision.inference.image.Image;

/**
 * One step of a per-sample pipeline. Random choices come only from {@code rng}, which the loader derives from
 * (seed, epoch, index), so output does not depend on thread scheduling. May modify {@code img} in place.
 */
@FunctionalInterface
public interface Transform {
    Image apply(Image img, SplittableRandom rng);

    default Transform andThen(Transform next) {
        return (img, rng) -> next.apply(apply(img, rng), rng);
    }

    static Transform identity() { return (img, rng) -> img; }

    /** Applies the steps in order. */
    static Transform compose(Transform... steps) { return compose(List.of(steps)); }

    static Transform compose(List<Transform> steps) {
        Transform[] s = steps.toArray(new Transform[0]);
        return (img, rng) -> {
            for (Transform t : s) img = t.apply(img, rng);
            return img;
        };
    }
}
