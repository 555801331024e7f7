package org.mambavision.training.track;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void plainLinesEveryTenPercent() {
        List<String> lines = new ArrayList<>();
        Progress p = new Progress(false, lines::add);
        p.start("epoch 1/5", 100);
        for (int i = 0; i < 100; i++) p.step(1, "loss 1.234 acc 0.500 img/s 321");
        p.close();
        assertEquals(10, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("epoch 1/5:  10% 10/100 | loss 1.234 acc 0.500 img/s 321 | "), lines.get(0));
        assertTrue(lines.get(0).contains("eta "), lines.get(0));
        assertTrue(lines.get(9).startsWith("epoch 1/5: 100% 100/100"), lines.get(9));
        assertFalse(lines.get(9).contains("eta"));
    }

    @Test
    void bigStepsSkipDecilesAndCloseLogsTheEndOnce() {
        List<String> lines = new ArrayList<>();
        Progress p = new Progress(false, lines::add);
        p.start("eval", 7);
        p.step(3, "a");
        p.step(3, null);     // keeps "a"
        p.step(1, "b");
        p.close();
        p.close();           // idempotent
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(1).contains("| a |"), lines.get(1));
        assertTrue(lines.get(2).startsWith("eval: 100% 7/7 | b"), lines.get(2));
    }

    @Test
    void unfinishedTaskLogsItsStateOnClose() {
        List<String> lines = new ArrayList<>();
        Progress p = new Progress(false, lines::add);
        p.start("train", 1000);
        p.step(50, "x");
        p.start("val", 0);   // starting the next task closes the previous one
        p.step(5, null);
        p.close();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("train:   5% 50/1000 | x"), lines.get(0));
        assertTrue(lines.get(1).startsWith("val: 5 | "), lines.get(1));
    }

    @Test
    void interactiveBarDoesNotThrow() {
        Progress p = new Progress(true, l -> fail("plain line in interactive mode: " + l));
        p.start("bar", 20);
        for (int i = 0; i < 20; i++) p.step(1, "loss 0.1");
        p.close();
    }

    @Test
    void clockFormat() {
        assertEquals("0:07", Progress.clock(7.2));
        assertEquals("2:05", Progress.clock(125));
        assertEquals("1:00:01", Progress.clock(3601));
    }
}
