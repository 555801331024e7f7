package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Arith;

/** The recorder: off by default, folds ops on constants, names parameters, writes a dynamic batch into reshapes. */
class OpTraceTest {
    @Test
    void inactiveOutsideAScope() {
        assertNull(OpTrace.active());
        OpTrace t = new OpTrace(17, Map.of());
        try (var s = t.start()) {
            assertSame(t, OpTrace.active());
            assertThrows(IllegalStateException.class, () -> new OpTrace(17, Map.of()).start());
        }
        assertNull(OpTrace.active());
    }

    @Test
    void constantsFoldAndParametersKeepTheirNames() {
        Tensor aLog = Tensor.full(0.5f, 4).name("A_log"), w = Tensor.full(2f, 4);
        OpTrace t = new OpTrace(17, Map.of(aLog, "mixer.A_log", w, "mixer.w"));
        Tensor x = Tensor.zeros(2, 4);
        try (var s = t.start()) {
            t.input(x, "images");
            Tensor a = Arith.scale(Activations.exp(aLog), -1f);        // constants only: folded, no node
            Tensor y = Arith.mul(Arith.add(x, a), w).reshape(2, 2, 2);
            t.output(y, "out");
        }
        List<String> ops = t.graph().nodes.stream().map(OpTrace.Node::op).toList();
        assertEquals(List.of("Add", "Mul", "Reshape"), ops);
        List<String> inits = t.initializers().stream().map(OpTrace.Initializer::name).toList();
        assertTrue(inits.contains("mixer.w"), inits.toString());
        assertFalse(inits.contains("mixer.A_log"), "A_log is only read by folded ops: " + inits);
        float[] folded = t.initializers().stream().filter(i -> !i.name().equals("mixer.w") && i.isFloat() && i.numel() == 4)
                .findFirst().orElseThrow().floats().get();
        assertEquals(-(float) Math.exp(0.5), folded[0], 1e-6);
        long[] shape = t.initializers().stream().filter(i -> !i.isFloat()).findFirst().orElseThrow().longs();
        assertArrayEquals(new long[] {-1, 2, 2}, shape, "the batch dimension stays dynamic");
        assertEquals("out", t.graph().nodes.get(2).outputs().get(0));
    }

    @Test
    void anOutputThatDoesNotDependOnTheInputIsAnError() {
        OpTrace t = new OpTrace(17, Map.of());
        try (var s = t.start()) {
            t.input(Tensor.zeros(1, 2), "images");
            Tensor c = Arith.add(Tensor.zeros(2), Tensor.zeros(2));
            var e = assertThrows(IllegalStateException.class, () -> t.output(c, "out"));
            assertTrue(e.getMessage().contains("does not depend on the input"), e.getMessage());
        }
    }
}
