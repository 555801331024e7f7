package org.mambavision.models.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;

class ConvBatchNormFoldTest {
    /** Folded (evaluation, no grad) and unfolded (the two layers) agree; recorded passes are not folded. */
    @Test
    void foldedEvaluationMatchesTheTwoLayers() {
        SplittableRandom rng = new SplittableRandom(4);
        for (boolean convBias : new boolean[] {true, false}) {
            Conv2dLayer conv = new Conv2dLayer(5, 7, 3, 2, 1, convBias, rng);
            BatchNorm2dLayer bn = new BatchNorm2dLayer(7, 1e-4f);
            for (int c = 0; c < 7; c++) {
                bn.weight.data[c] = (float) rng.nextDouble(0.5, 2);
                bn.bias.data[c] = (float) rng.nextGaussian();
                bn.runningMean.data[c] = (float) rng.nextGaussian();
                bn.runningVar.data[c] = (float) rng.nextDouble(0.1, 3);
            }
            conv.train(false);
            bn.train(false);
            Tensor x = Tensor.randn(rng, 1f, 2, 5, 9, 11);
            Tensor twoLayers = bn.forward(conv.forward(x));
            Tensor folded;
            try (var g = Tape.noGrad()) {
                folded = conv.forwardWithBatchNorm(x, bn);
            }
            assertArrayEquals(twoLayers.shape(), folded.shape());
            for (int i = 0; i < folded.numel(); i++) {
                assertEquals(twoLayers.data[i], folded.data[i], 1e-5f * (1 + Math.abs(twoLayers.data[i])), "at " + i);
            }
            // With gradients recorded the layers run unfolded, so the BatchNorm parameters get their gradients.
            Tensor y = conv.forwardWithBatchNorm(x, bn);
            Tape.backward(y, y.data.clone());
            assertNotNull(bn.weight.grad);
            assertNotNull(conv.weight.grad);
        }
    }
}
