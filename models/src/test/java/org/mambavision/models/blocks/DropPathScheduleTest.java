package org.mambavision.models.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DropPathScheduleTest {
    @Test
    void linspaceLikeTorch() {
        // MambaVision-T: depths [1, 3, 8, 4] -> 16 blocks, drop_path_rate 0.2
        float[] d = DropPathSchedule.linear(0.2f, 16);
        assertEquals(16, d.length);
        assertEquals(0f, d[0]);
        assertEquals(0.2f, d[15]); // exact end point, as torch.linspace
        for (int i = 0; i < 16; i++) assertEquals(0.2 * i / 15, d[i], 1e-7, "block " + i);
        for (int i = 1; i < 16; i++) assertEquals(d[i] - d[i - 1], 0.2f / 15, 1e-7);
        assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.75f, 1f}, DropPathSchedule.linear(1f - 0x1p-24f, 5), 1e-7f);
        assertArrayEquals(new float[] {0f}, DropPathSchedule.linear(0.3f, 1));
        assertArrayEquals(new float[0], DropPathSchedule.linear(0.3f, 0));
        assertArrayEquals(new float[8], DropPathSchedule.linear(0f, 8));
        assertThrows(IllegalArgumentException.class, () -> DropPathSchedule.linear(-0.1f, 4));
    }
}
