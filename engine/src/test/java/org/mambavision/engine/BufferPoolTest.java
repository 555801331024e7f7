package org.mambavision.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.ops.Activations;
import org.mambavision.engine.ops.Reduce;

class BufferPoolTest {
    private static final int N = BufferPool.MIN_FLOATS * 2;

    @AfterEach
    void unpoison() {
        BufferPool.poison(false);
    }

    @Test
    void aClosedScopesBuffersAreReusedByTheNextScope() {
        float[] first;
        try (var s = BufferPool.open()) {
            first = Tensor.empty(N).data;
            first[5] = 42f;
        }
        try (var s = BufferPool.open()) {
            Tensor again = Tensor.zeros(N);
            assertSame(first, again.data, "same length: the freed buffer comes back");
            assertEquals(0f, again.data[5], "zeros() clears a reused buffer");
            assertNotSame(first, Tensor.zeros(N).data, "a buffer is handed out once per scope");
        }
    }

    @Test
    void trimDropsTheFreeBuffers() {
        float[] first;
        try (var s = BufferPool.open()) {
            first = Tensor.empty(N).data;
        }
        BufferPool.trim();
        try (var s = BufferPool.open()) {
            assertNotSame(first, Tensor.empty(N).data);
        }
    }

    @Test
    void poisonFillsReusedEmptyBuffersWithNaN() {
        BufferPool.poison(true);
        try (var s = BufferPool.open()) {
            Tensor.empty(N);
        }
        try (var s = BufferPool.open()) {
            assertTrue(Float.isNaN(Tensor.empty(N).data[0]));
        }
    }

    @Test
    void escapedDataIsNeverHandedOutAgain() {
        Tensor kept;
        try (var s = BufferPool.open()) {
            kept = s.escape(Tensor.full(3f, N));
        }
        try (var s = BufferPool.open()) {
            assertNotSame(kept.data, Tensor.empty(N).data);
        }
        assertEquals(3f, kept.data[N - 1]);
    }

    @Test
    void smallTensorsAndTensorsOutsideScopesAreHeapArrays() {
        float[] outside = Tensor.empty(N).data;
        float[] small;
        try (var s = BufferPool.open()) {
            small = Tensor.empty(16).data;
        }
        try (var s = BufferPool.open()) {
            assertNotSame(small, Tensor.empty(16).data);
            assertNotSame(outside, Tensor.empty(N).data);
        }
    }

    @Test
    void parameterGradientsSurviveTheScopeAndIntermediateOnesGoBackEarly() {
        Tensor w = Tensor.full(0.5f, N).requiresGrad(true);
        try (var s = BufferPool.open()) {
            Tensor h = Activations.relu(w);       // an intermediate: its gradient is pooled and released
            Tensor loss = Reduce.sumAll(Activations.relu(h));
            loss.backward();
            assertNull(h.grad, "the tape drops consumed gradients");
            Tensor reused = Tensor.empty(N);        // the released intermediate gradient is free again
            assertNotSame(w.grad, reused.data);
        }
        assertNotNull(w.grad);
        for (float g : w.grad) assertEquals(1f, g);
        try (var s = BufferPool.open()) {
            for (int i = 0; i < 4; i++) assertNotSame(w.grad, Tensor.empty(N).data, "a parameter's gradient is never recycled");
        }
    }

    @Test
    void otherThreadsDoNotShareAScope() throws Exception {
        try (var s = BufferPool.open()) {
            Tensor t = Tensor.empty(N);
            AtomicReference<float[]> grad = new AtomicReference<>();
            Thread other = new Thread(() -> grad.set(t.gradBuffer()));
            other.start();
            other.join();
            assertNotNull(grad.get());
            assertEquals(0f, grad.get()[0]);
        }
    }
}
