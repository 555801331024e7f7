package org.mambavision.training.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mambavision.engine.io.CheckpointFormatException;

/** A checkpoint's resume position is checked when read: a missing or malformed key names the file and the key. */
class TrainCheckpointPositionTest {
    static final Path FILE = Path.of("runs/x/last.safetensors");

    static TrainCheckpoint.Position midEpoch() {
        return new TrainCheckpoint.Position(2, 5, 16, 37, 0.75, 0.61, -42, 123, 9.5, 60, 80);
    }

    @Test
    void roundTrips() throws Exception {
        TrainCheckpoint.Position p = midEpoch();
        assertEquals(p, TrainCheckpoint.Position.of(p.toInfo(), FILE));
        TrainCheckpoint.Position boundary = new TrainCheckpoint.Position(3, 0, 16, 48, -1, Double.POSITIVE_INFINITY, 7, 9, 0, 0, 0);
        assertEquals(boundary, TrainCheckpoint.Position.of(boundary.toInfo(), FILE));
        assertFalse(boundary.toInfo().containsKey("epoch_seen"), "an epoch boundary has no partial-epoch sums");
    }

    @Test
    void missingKeyIsNamed() {
        Map<String, String> info = new LinkedHashMap<>(midEpoch().toInfo());
        info.remove("sd_calls");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TrainCheckpoint.Position.of(info, FILE));
        assertTrue(e.getMessage().startsWith(FILE + ": info.sd_calls is missing"), e.getMessage());
    }

    @Test
    void partialEpochSumsAreRequiredMidEpoch() {
        Map<String, String> info = new LinkedHashMap<>(midEpoch().toInfo());
        info.remove("epoch_seen");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TrainCheckpoint.Position.of(info, FILE));
        assertTrue(e.getMessage().contains("info.epoch_seen is missing"), e.getMessage());
    }

    @Test
    void malformedValuesAreNamed() {
        for (String[] bad : new String[][] {{"epoch", "two"}, {"batch", "-1"}, {"optimizer_steps", "1e3"}, {"best_top1", "NaN"}, {"best_top1", "high"}}) {
            Map<String, String> info = new LinkedHashMap<>(midEpoch().toInfo());
            info.put(bad[0], bad[1]);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TrainCheckpoint.Position.of(info, FILE), bad[0]);
            assertTrue(e.getMessage().startsWith(FILE + ": info." + bad[0] + " is '" + bad[1] + "'"), e.getMessage());
        }
    }

    @Test
    void olderCheckpointsWithoutBatchSizeOrBestLossStillRead() throws Exception {
        Map<String, String> info = new LinkedHashMap<>(midEpoch().toInfo());
        info.remove("batch_size");
        info.remove("best_val_loss");
        TrainCheckpoint.Position p = TrainCheckpoint.Position.of(info, FILE);
        assertEquals(0, p.batchSize());
        assertEquals(Double.POSITIVE_INFINITY, p.bestValLoss());
    }
}
