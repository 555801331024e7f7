package org.mambavision.training;

import org.mambavision.engine.BufferPool;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.ops.CrossEntropy;
import org.mambavision.models.VisionModel;
import org.mambavision.training.data.DataLoader;

/** Loss (plain cross-entropy), top-1, top-5 and the confusion matrix of a model on a loader. */
public final class Evaluator {
    public record Result(double loss, double top1, double top5, int samples, int[][] confusion) {}

    private Evaluator() {}

    public static Result evaluate(VisionModel model, DataLoader loader, int numClasses) {
        boolean wasTraining = model.training();
        model.train(false);
        double lossSum = 0;
        long correct1 = 0, correct5 = 0;
        int n = 0;
        int[][] confusion = new int[numClasses][numClasses];
        try (var g = Tape.noGrad(); DataLoader.Epoch epoch = loader.epoch(0)) {
            for (DataLoader.Batch b : epoch) {
                try (var buffers = BufferPool.open()) { // every batch reuses the previous batch's buffers
                    Tensor logits = model.forward(b.images());
                    lossSum += CrossEntropy.forward(logits, b.labels(), 0f).item() * b.size();
                    int[] hits = topKHits(logits, b.labels(), confusion);
                    correct1 += hits[0];
                    correct5 += hits[1];
                    n += b.size();
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Result(n == 0 ? Double.NaN : lossSum / n, n == 0 ? Double.NaN : (double) correct1 / n,
                n == 0 ? Double.NaN : (double) correct5 / n, n, confusion);
    }

    /** [top-1 hits, top-5 hits] of a batch; fills the confusion matrix (row: true class, column: predicted) when given. */
    public static int[] topKHits(Tensor logits, int[] labels, int[][] confusion) {
        int classes = logits.dim(1), top1 = 0, top5 = 0;
        for (int i = 0; i < labels.length; i++) {
            int off = i * classes, y = labels[i];
            float target = logits.data[off + y];
            int argmax = 0, greater = 0;
            for (int c = 0; c < classes; c++) {
                float v = logits.data[off + c];
                if (v > logits.data[off + argmax]) argmax = c;
                if (v > target) greater++;
            }
            if (argmax == y) top1++;
            if (greater < 5) top5++;
            if (confusion != null && y < confusion.length && argmax < confusion.length) confusion[y][argmax]++;
        }
        return new int[] {top1, top5};
    }
}
