package org.mambavision.models;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.models.nn.Module;
import org.mambavision.models.nn.Profiler;

/** Per-layer times are on the summary's rows, and each row's time lies within the pass that produced it. */
class LayerTimesTest {
    @Test
    void rowsAreTheSummarysAndTheirTimesAddUpWithinThePass() {
        VisionModel m = ModelRegistry.create("mambavision_mini");
        m.train(false);
        Tensor x = Tensor.randn(new SplittableRandom(3), 1f, 2, 3, 64, 64);
        ModelSummary summary = ModelSummary.of(m, 64, 64);

        LayerTimes t = LayerTimes.measure(m, x, 3, 0);
        assertEquals(summary.rows().size(), t.layers().size());
        for (int i = 0; i < t.layers().size(); i++) {
            LayerTimes.Layer l = t.layers().get(i);
            assertEquals(summary.rows().get(i).name(), l.name());
            assertEquals(2 * summary.rows().get(i).macs(), l.macs(), l.name()); // the summary counts one image
            assertTrue(l.ms() >= 0 && Double.isFinite(l.ms()), l.name() + " " + l.ms());
        }
        assertTrue(t.totalMs() > 0);

        // one profiled pass timed from outside: the rows' times are intervals of it, so their sum is at most its length
        long start = System.nanoTime();
        Profiler p = Profiler.start((Module) m);
        try (var g = Tape.noGrad()) {
            m.forward(x);
        } finally {
            p.stop();
        }
        long wall = System.nanoTime() - start;
        List<Profiler.Row> rows = p.rows();
        long sum = rows.stream().mapToLong(Profiler.Row::nanos).sum();
        assertTrue(rows.stream().allMatch(r -> r.nanos() >= 0));
        assertTrue(sum <= wall, sum + " ns in rows, " + wall + " ns in the pass");
        assertTrue(sum > wall / 2, "the rows cover the pass: " + sum + " of " + wall + " ns");
    }
}
