package org.mambavision.serving;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.Predictor;
import org.mambavision.models.Features;
import org.mambavision.models.VisionModel;

/**
 * A model under its served name: its OIP signature (input {@code input} N x C x S x S FP32; outputs {@code logits},
 * {@code pooled}, {@code stage0..3}) and its own batcher, so that one model's load never blocks another's.
 */
public final class ServedModel implements AutoCloseable {
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";

    /** A tensor of the model's signature: its shape without the batch dimension. */
    public record TensorSpec(String name, int[] shape) {
        public int[] batchShape() {
            int[] s = new int[shape.length + 1];
            s[0] = -1;
            System.arraycopy(shape, 0, s, 1, shape.length);
            return s;
        }
    }

    private final String name;
    private final Predictor predictor;
    private final TensorSpec input;
    private final List<TensorSpec> outputs;
    private final Batcher batcher;

    public ServedModel(String name, Predictor predictor, ServerConfig config, Metrics metrics) {
        this.name = name;
        this.predictor = predictor;
        int c = predictor.preprocessing().channels(), s = predictor.preprocessing().size();
        this.input = new TensorSpec(INPUT, new int[] {c, s, s});
        this.outputs = probeOutputs(predictor.model(), c, s);
        this.batcher = new Batcher(name, this::run, config.maxBatch(), config.maxDelayMs() * 1_000_000L, config.maxQueue(), config.workers(), metrics);
    }

    /** The output shapes, from one forward pass of a zero image (which also warms the model up). */
    private static List<TensorSpec> probeOutputs(VisionModel m, int c, int s) {
        List<TensorSpec> out = new ArrayList<>();
        try (var g = Tape.noGrad()) {
            Features f = m.forwardFeatures(Tensor.zeros(1, c, s, s));
            out.add(new TensorSpec(LOGITS, new int[] {m.numClasses()}));
            out.add(new TensorSpec("pooled", tail(f.pooled())));
            for (int i = 0; i < f.stages().size(); i++) out.add(new TensorSpec("stage" + i, tail(f.stages().get(i))));
        }
        return List.copyOf(out);
    }

    private static int[] tail(Tensor t) {
        return Arrays.copyOfRange(t.shape(), 1, t.rank());
    }

    /** Batch runner: logits alone, or logits then pooled then the stages when any request of the batch wants them. */
    private List<Tensor> run(Tensor batch, boolean withFeatures) {
        VisionModel m = predictor.model();
        if (!withFeatures) return List.of(m.forward(batch));
        Features f = m.forwardFeatures(batch);
        List<Tensor> all = new ArrayList<>();
        all.add(m.head(f.pooled()));
        all.add(f.pooled());
        all.addAll(f.stages());
        return all;
    }

    /**
     * Queues an input of shape (N, C, S, S); the future gives this request's rows of every output in
     * {@link #outputs()} order when {@code withFeatures}, else the logits alone.
     */
    public CompletableFuture<List<Tensor>> submit(Tensor x, boolean withFeatures, long deadlineNanos) {
        return batcher.submit(x, withFeatures, deadlineNanos);
    }

    public String name() {
        return name;
    }

    public Predictor predictor() {
        return predictor;
    }

    public TensorSpec input() {
        return input;
    }

    public List<TensorSpec> outputs() {
        return outputs;
    }

    public int queued() {
        return batcher.queued();
    }

    @Override
    public void close() {
        batcher.close();
    }
}
