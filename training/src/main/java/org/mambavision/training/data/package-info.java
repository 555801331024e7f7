/**
 * Training data: datasets ({@link org.mambavision.training.data.Datasets#create}: synthetic, fake, fashion-mnist,
 * cifar10, cifar100, imagefolder), seeded splits, per-sample transforms (subpackage {@code transforms}, Pillow-exact
 * resampling), timm's mixup/cutmix, and a prefetching {@link org.mambavision.training.data.DataLoader} whose output
 * depends only on (seed, epoch), never on the number of worker threads.
 *
 * <p>Images are {@link org.mambavision.inference.image.Image} (float CHW in [0, 1] until Normalize). Only the engine's
 * Tensor is used, to hand batches over; no engine ops.
 */
package org.mambavision.training.data;
