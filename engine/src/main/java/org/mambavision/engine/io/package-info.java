/**
 * Weight files: {@link org.mambavision.engine.io.Safetensors} (read, validated on open, memory-mapped; write, atomic),
 * {@link org.mambavision.engine.io.TorchCheckpoint} ({@code torch.save} zip archives through a restricted unpickler that
 * never runs code), {@link org.mambavision.engine.io.WeightFiles#load} (either, recognised by content) and
 * {@link org.mambavision.engine.io.AtomicFiles} (write-temp, fsync, rename). Every problem with a file's content is a
 * {@link org.mambavision.engine.io.CheckpointFormatException} whose message names the file.
 */
package org.mambavision.engine.io;
