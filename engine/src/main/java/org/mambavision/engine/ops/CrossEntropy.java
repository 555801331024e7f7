package org.mambavision.engine.ops;

import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.VecMath;

/**
 * Cross-entropy over logits (N, C), mean over the batch, as a rank-0 tensor.
 * Hard labels follow PyTorch's label smoothing: loss_i = (1 - eps) (-log p_{y_i}) + eps * mean_c(-log p_c).
 * Soft targets (mixup / cutmix): loss_i = sum_c -t_ic log p_ic. The gradient flows to the logits only.
 */
public final class CrossEntropy {
    private static final int GRAIN = 16384;

    private CrossEntropy() {}

    public static Tensor forward(Tensor logits, int[] labels, float labelSmoothing) {
        checkLogits("CrossEntropy", logits);
        int n = logits.dim(0), c = logits.dim(1);
        if (labels.length != n) {
            throw new IllegalArgumentException("CrossEntropy: " + labels.length + " labels for logits " + logits.shapeString());
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= c) {
                throw new IllegalArgumentException("CrossEntropy: label " + labels[i] + " at " + i + " out of range for logits " + logits.shapeString());
            }
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropy: label smoothing " + labelSmoothing + " not in [0, 1]");
        }
        float[] x = logits.data;
        float eps = labelSmoothing;
        float[] lse = new float[n];
        double[] rowLoss = new double[n];
        Parallel.forRange(n, rowGrain(c), (r0, r1) -> {
            float[] scratch = new float[c];
            for (int i = r0; i < r1; i++) {
                int off = i * c;
                lse[i] = VecMath.logSumExp(x, off, c, scratch);
                double nll = lse[i] - x[off + labels[i]];
                double smooth = eps == 0 ? 0 : lse[i] - VecMath.sum(x, off, c) / c;
                rowLoss[i] = (1 - eps) * nll + eps * smooth;
            }
        });
        Tensor out = Tensor.scalar((float) (sumInOrder(rowLoss) / n));
        Tape.record(out, () -> {
            float go = out.grad[0] / n;
            float[] gx = logits.gradBuffer();
            // d/dx_ic = (p_ic - (1 - eps) [c == y_i] - eps / C) / N
            Parallel.forRange(n, rowGrain(c), (r0, r1) -> {
                for (int i = r0; i < r1; i++) {
                    int off = i * c;
                    for (int j = 0; j < c; j++) gx[off + j] += go * ((float) Math.exp(x[off + j] - lse[i]) - eps / c);
                    gx[off + labels[i]] -= go * (1 - eps);
                }
            });
        }, logits);
        return out;
    }

    /** targets (N, C), rows summing to 1: mean_i sum_c -t_ic log softmax(x_i)_c. */
    public static Tensor forwardSoft(Tensor logits, Tensor targets) {
        checkLogits("CrossEntropy.forwardSoft", logits);
        if (!logits.sameShape(targets)) {
            throw new IllegalArgumentException("CrossEntropy.forwardSoft: targets " + targets.shapeString() + " do not match logits " + logits.shapeString());
        }
        int n = logits.dim(0), c = logits.dim(1);
        float[] x = logits.data, t = targets.data;
        float[] lse = new float[n], tSum = new float[n];
        double[] rowLoss = new double[n];
        Parallel.forRange(n, rowGrain(c), (r0, r1) -> {
            float[] scratch = new float[c];
            for (int i = r0; i < r1; i++) {
                int off = i * c;
                lse[i] = VecMath.logSumExp(x, off, c, scratch);
                double ts = VecMath.sum(t, off, c);
                tSum[i] = (float) ts;
                rowLoss[i] = ts * lse[i] - VecMath.dot(t, off, x, off, c);
            }
        });
        Tensor out = Tensor.scalar((float) (sumInOrder(rowLoss) / n));
        Tape.record(out, () -> {
            float go = out.grad[0] / n;
            float[] gx = logits.gradBuffer();
            // d/dx_ic = (p_ic * sum_c t_ic - t_ic) / N
            Parallel.forRange(n, rowGrain(c), (r0, r1) -> {
                for (int i = r0; i < r1; i++) {
                    int off = i * c;
                    for (int j = 0; j < c; j++) gx[off + j] += go * ((float) Math.exp(x[off + j] - lse[i]) * tSum[i] - t[off + j]);
                }
            });
        }, logits);
        return out;
    }

    private static void checkLogits(String op, Tensor logits) {
        if (logits.rank() != 2 || logits.dim(1) == 0) {
            throw new IllegalArgumentException(op + ": logits must be (N, C) with C > 0, got " + logits.shapeString());
        }
    }

    private static int rowGrain(int c) { return Math.max(1, GRAIN / c); }

    private static double sumInOrder(double[] a) {
        double s = 0;
        for (double v : a) s += v;
        return s;
    }
}
