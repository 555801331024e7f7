package org.mambavision.models.blocks;

/** Stochastic-depth rates per block, as in the official code: torch.linspace(0, drop_path_rate, sum(depths)). */
public final class DropPathSchedule {
    private DropPathSchedule() {}

    /** torch.linspace(0, rate, totalBlocks) in float32, computed the way torch's CPU kernel does (symmetric halves). */
    public static float[] linear(float dropPathRate, int totalBlocks) {
        if (totalBlocks < 0) throw new IllegalArgumentException("DropPathSchedule: negative block count " + totalBlocks);
        if (!(dropPathRate >= 0 && dropPathRate < 1)) throw new IllegalArgumentException("DropPathSchedule: rate must be in [0, 1), got " + dropPathRate);
        float[] out = new float[totalBlocks];
        if (totalBlocks == 1) out[0] = 0f;
        if (totalBlocks <= 1) return out;
        float step = dropPathRate / (float) (totalBlocks - 1);
        int half = totalBlocks / 2;
        for (int i = 0; i < totalBlocks; i++) {
            out[i] = i < half ? step * i : dropPathRate - step * (totalBlocks - i - 1);
        }
        return out;
    }
}
