package org.mambavision.engine.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mambavision.engine.Golden;
import org.mambavision.engine.Tensor;

class TorchCheckpointTest {
    @TempDir Path tmp;

    private static Path golden(String name) {
        Path g = Golden.dirOrNull();
        Assumptions.assumeTrue(g != null, "no ../shared/golden");
        return g.resolve("mini").resolve(name);
    }

    @Test
    void goldenCheckpointMatchesSafetensorsBitForBit() throws IOException {
        Map<String, Tensor> fromTorch = TorchCheckpoint.readStateDict(golden("checkpoint.pth.tar"));
        Map<String, Tensor> fromSafetensors;
        try (Safetensors st = Safetensors.open(golden("weights.safetensors"))) {
            fromSafetensors = st.tensors();
        }
        assertEquals(List.copyOf(fromSafetensors.keySet()), List.copyOf(fromTorch.keySet()), "same names in the same order");
        for (String name : fromTorch.keySet()) {
            Tensor a = fromTorch.get(name), b = fromSafetensors.get(name);
            if (name.endsWith("num_batches_tracked")) {
                assertEquals(0, a.rank(), "PyTorch stores it as a scalar"); // the golden safetensors has shape [1]
                assertEquals(b.item(), a.item(), name);
                continue;
            }
            assertArrayEquals(b.shape(), a.shape(), name);
            for (int i = 0; i < a.numel(); i++) {
                assertEquals(Float.floatToRawIntBits(b.data[i]), Float.floatToRawIntBits(a.data[i]), name + "[" + i + "]");
            }
        }
        assertEquals(fromTorch.keySet(), WeightFiles.load(golden("checkpoint.pth.tar")).keySet());
        assertEquals(fromSafetensors.keySet(), WeightFiles.load(golden("weights.safetensors")).keySet());
    }

    @Test
    void handBuiltCheckpointWithTrainingStateAndViews() throws IOException {
        String marker = "/tmp/pwned-" + Long.toHexString(new SplittableRandom().nextLong());
        PickleBuilder p = new PickleBuilder();
        p.emptyDict().mark();
        p.str("state_dict").global("collections", "OrderedDict").emptyTuple().reduce().mark();
        p.str("module.w").tensor("FloatStorage", "0", 6, 0, new int[] {2, 3}, new int[] {3, 1});
        p.str("module.t").tensor("FloatStorage", "0", 6, 0, new int[] {3, 2}, new int[] {1, 3}); // a transposed view
        p.str("module.tail").tensor("FloatStorage", "0", 6, 4, new int[] {2}, new int[] {1}); // offset into the storage
        p.str("module.h").tensor("HalfStorage", "1", 2, 0, new int[] {2}, new int[] {1});
        p.str("module.b").tensor("BFloat16Storage", "2", 1, 0, new int[] {1, 1}, new int[] {7, 7}); // size-1 stride ignored
        p.str("module.n").tensor("LongStorage", "3", 1, 0, new int[] {}, new int[] {});
        p.str("module.d").tensor("DoubleStorage", "4", 1, 0, new int[] {1}, new int[] {1});
        p.str("module.p").global("torch._utils", "_rebuild_parameter")
                .mark().tensor("IntStorage", "5", 2, 0, new int[] {2}, new int[] {1}).op(0x88).global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
        p.str("module.s").op('K').op(5); // a non-tensor inside the state dict is skipped
        p.setItems();
        p.str("args").global("argparse", "Namespace").emptyTuple().op(0x81).emptyDict().str("lr").op('G').raw(new byte[] {0x3f, (byte) 0xb9, (byte) 0x99, (byte) 0x99, (byte) 0x99, (byte) 0x99, (byte) 0x99, (byte) 0x9a}).setItem().build();
        p.str("evil").osSystem("touch " + marker);
        p.str("eval").global("builtins", "eval").str("__import__('os').system('touch " + marker + "')").tuple1().reduce();
        p.str("epoch").op('K').op(3);
        p.setItems().stop();

        Map<String, byte[]> blobs = new LinkedHashMap<>();
        blobs.put("0", floats(0, 1, 2, 3, 4, 5));
        blobs.put("1", shorts(Float.floatToFloat16(1.5f), Float.floatToFloat16(-65504f)));
        blobs.put("2", shorts((short) (Float.floatToRawIntBits(-2.5f) >>> 16)));
        blobs.put("3", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1234).array());
        blobs.put("4", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).array());
        blobs.put("5", ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(-7).putInt(9).array());
        Path f = tmp.resolve("hand.pth.tar");
        PickleBuilder.writeTorchZip(f, p.bytes(), blobs);

        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(f);
        assertFalse(Files.exists(Path.of(marker)), "nothing executed");
        assertEquals(List.of("w", "t", "tail", "h", "b", "n", "d", "p"), List.copyOf(sd.keySet()), "module. stripped, non-tensors dropped");
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, sd.get("w").data);
        assertArrayEquals(new int[] {3, 2}, sd.get("t").shape());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, sd.get("t").data);
        assertArrayEquals(new float[] {4, 5}, sd.get("tail").data);
        assertArrayEquals(new float[] {1.5f, -65504f}, sd.get("h").data);
        assertArrayEquals(new float[] {-2.5f}, sd.get("b").data);
        assertEquals(0, sd.get("n").rank());
        assertEquals(1234f, sd.get("n").item());
        assertEquals((float) 0.1, sd.get("d").item());
        assertArrayEquals(new float[] {-7, 9}, sd.get("p").data);
    }

    @Test
    void osSystemPickleExecutesNothingAndHasNoStateDict() throws IOException {
        String marker = "/tmp/pwned-" + Long.toHexString(new SplittableRandom().nextLong());
        byte[] topLevelCall = new PickleBuilder().osSystem("touch " + marker).stop().bytes();
        assertRejected(torchZip(topLevelCall), "no state dict found");
        byte[] nested = new PickleBuilder().emptyDict().str("state_dict").osSystem("touch " + marker).setItem().stop().bytes();
        assertRejected(torchZip(nested), "no state dict found");
        byte[] stackGlobal = new PickleBuilder().str("posix").str("system").op(0x93).str("touch " + marker).tuple1().reduce()
                .emptyDict().build().stop().bytes();
        assertRejected(torchZip(stackGlobal), "no state dict found");
        assertFalse(Files.exists(Path.of(marker)), "os.system was never called");
    }

    @Test
    void malformedPicklesAreRejected() throws IOException {
        assertRejected(torchZip(new PickleBuilder().reduce().stop().bytes()), "stack underflow");
        assertRejected(torchZip(new PickleBuilder().op('h').op(5).stop().bytes()), "memo index 5");
        assertRejected(torchZip(new PickleBuilder().op(0xff).bytes()), "unknown or unsupported opcode 0xff");
        assertRejected(torchZip(new PickleBuilder().emptyDict().bytes()), "truncated");
        assertRejected(torchZip(new PickleBuilder().op('X').raw(new byte[] {-1, -1, -1, 0x7f}).bytes()), "truncated");
        assertRejected(torchZip(new PickleBuilder().op(0x8d).raw(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}).bytes()), "negative length");
        assertRejected(torchZip(new PickleBuilder().op('t').stop().bytes()), "no MARK");
        byte[] deep = new byte[30_000];
        Arrays.fill(deep, (byte) '(');
        assertRejected(torchZip(new PickleBuilder().raw(deep).stop().bytes()), "nesting deeper");
        byte[] deepLists = new byte[60_000];
        for (int i = 0; i < deepLists.length; i += 2) { deepLists[i] = ']'; deepLists[i + 1] = (byte) 0x85; }
        assertRejected(torchZip(new PickleBuilder().raw(deepLists).stop().bytes()), "no state dict found");
        // A list that contains itself, used as a dict key: no recursion in hashing.
        byte[] selfRef = new PickleBuilder().op(']').op('q').op(0).op('h').op(0).op('a').emptyDict().op('h').op(0).op('K').op(1)
                .setItem().stop().bytes();
        assertRejected(torchZip(selfRef), "no state dict found");
        assertRejected(torchZip(new PickleBuilder().op(0x80).op(9).stop().bytes()), "protocol 9");
        assertRejected(torchZip(new PickleBuilder().op('K').op(0).op('K').op(1).op('K').op(2).op('s').stop().bytes()), "SETITEM on a int");
        assertRejected(torchZip(new PickleBuilder().str("x").stop().bytes()), "no state dict found");
    }

    @Test
    void tensorsReachingPastTheirStorageAreRejected() throws IOException {
        assertRejected(oneTensor("FloatStorage", 6, 0, new int[] {10}, new int[] {1}, floats(0, 1, 2, 3, 4, 5)), "has only 6 elements");
        assertRejected(oneTensor("FloatStorage", 6, 5, new int[] {2}, new int[] {1}, floats(0, 1, 2, 3, 4, 5)), "has only 6 elements");
        assertRejected(oneTensor("FloatStorage", 6, 0, new int[] {2, 3}, new int[] {4, 1}, floats(0, 1, 2, 3, 4, 5)), "has only 6 elements");
        assertRejected(oneTensor("FloatStorage", 100, 0, new int[] {10}, new int[] {1}, floats(0, 1, 2, 3, 4, 5)), "has 24 bytes");
        assertRejected(oneTensor("FloatStorage", 6, 0, new int[] {1, 1, 1, 1, 1, 6}, new int[] {6, 6, 6, 6, 6, 1}, floats(0, 1, 2, 3, 4, 5)), "rank 6");
        assertRejected(oneTensor("ComplexFloatStorage", 6, 0, new int[] {3}, new int[] {1}, floats(0, 1, 2, 3, 4, 5)), "unsupported storage type torch.ComplexFloatStorage");
        assertRejected(oneTensor("FloatStorage", Integer.MAX_VALUE, 0, new int[] {65536, 65536}, new int[] {65536, 1}, floats(0)), "too many");
        byte[] pickle = new PickleBuilder().emptyDict().str("w").tensor("FloatStorage", "9", 6, 0, new int[] {6}, new int[] {1}).setItem().stop().bytes();
        Path f = tmp.resolve("missing.pth");
        PickleBuilder.writeTorchZip(f, pickle, Map.of("0", floats(0, 1, 2, 3, 4, 5)));
        assertRejected(f, "archive/data/9 is missing");
    }

    @Test
    void truncatedGoldenPickleIsRejected() throws IOException {
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        byte[] pickle = goldenEntries(blobs);
        Path whole = tmp.resolve("whole.pth.tar");
        PickleBuilder.writeTorchZip(whole, pickle, blobs);
        assertEquals(125, TorchCheckpoint.readStateDict(whole).size(), "the rebuilt archive itself is fine");
        for (int cut : new int[] {pickle.length / 2, 1, 100, pickle.length - 1}) {
            Path f = tmp.resolve("cut" + cut + ".pth.tar");
            PickleBuilder.writeTorchZip(f, Arrays.copyOf(pickle, cut), blobs);
            assertRejected(f, "data.pkl");
        }
        // A storage blob cut short.
        Map<String, byte[]> shortBlobs = new LinkedHashMap<>(blobs);
        shortBlobs.put("0", Arrays.copyOf(blobs.get("0"), 100));
        Path f = tmp.resolve("shortblob.pth.tar");
        PickleBuilder.writeTorchZip(f, pickle, shortBlobs);
        assertRejected(f, "archive/data/0");
        // The whole archive cut in half.
        byte[] zip = Files.readAllBytes(golden("checkpoint.pth.tar"));
        Path half = tmp.resolve("half.pth.tar");
        Files.write(half, Arrays.copyOf(zip, zip.length / 2));
        assertRejected(half, "");
    }

    @Test
    void randomGarbageIsRejected() throws IOException {
        SplittableRandom rng = new SplittableRandom(5);
        for (int trial = 0; trial < 100; trial++) {
            byte[] junk = new byte[rng.nextInt(1, 3000)];
            for (int i = 0; i < junk.length; i++) junk[i] = (byte) rng.nextInt(256);
            if (trial % 2 == 0) {
                junk[0] = (byte) 0x80; // looks like a pickle: the unpickler must reject it cleanly
                junk[1] = 2;
            }
            assertRejected(torchZip(junk), "");
            Path raw = tmp.resolve("junk" + trial + ".pth");
            Files.write(raw, junk);
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(raw));
            assertTrue(e.getMessage().contains(raw.toString()), e.getMessage());
            e = assertThrows(CheckpointFormatException.class, () -> WeightFiles.load(raw));
            assertTrue(e.getMessage().contains(raw.toString()), e.getMessage());
        }
        Path zipNoPickle = tmp.resolve("nopkl.zip");
        try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zipNoPickle))) {
            out.putNextEntry(new ZipEntry("readme.txt"));
            out.write(1);
        }
        assertRejected(zipNoPickle, "no <folder>/data.pkl");
    }

    @Test
    void mutatedGoldenPicklesFailOnlyWithFormatErrors() throws IOException {
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        byte[] pickle = goldenEntries(blobs);
        SplittableRandom rng = new SplittableRandom(17);
        Path f = tmp.resolve("mutated.pth.tar");
        int rejected = 0;
        for (int trial = 0; trial < 40; trial++) {
            byte[] b = pickle.clone();
            for (int k = 0; k < 1 + rng.nextInt(3); k++) b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            PickleBuilder.writeTorchZip(f, b, blobs);
            try {
                TorchCheckpoint.readStateDict(f);
            } catch (CheckpointFormatException e) {
                assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
                rejected++;
            }
        }
        assertTrue(rejected > 0);
    }

    @Test
    void legacyTorchFormatIsNamed() throws IOException {
        Path f = tmp.resolve("legacy.pth");
        Files.write(f, new PickleBuilder().op(0x8a).op(0x0a).raw(new byte[10]).stop().bytes());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> WeightFiles.load(f));
        assertTrue(e.getMessage().startsWith(f + ": legacy (pre-1.6) torch.save format"), e.getMessage());
    }

    @Test
    void prefixesAreStrippedOnlyWhenShared() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("module.model.a", Tensor.scalar(1));
        m.put("module.model.b", Tensor.scalar(2));
        assertEquals(List.of("a", "b"), List.copyOf(WeightFiles.stripPrefixes(m).keySet()));
        m.put("module.c", Tensor.scalar(3));
        assertEquals(List.of("model.a", "model.b", "c"), List.copyOf(WeightFiles.stripPrefixes(m).keySet()));
        Map<String, Tensor> mixed = new LinkedHashMap<>();
        mixed.put("encoder.x", Tensor.scalar(1));
        mixed.put("x", Tensor.scalar(2));
        assertEquals(Set.of("encoder.x", "x"), WeightFiles.stripPrefixes(mixed).keySet());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static void assertRejected(Path f, String problem) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.readStateDict(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
        CheckpointFormatException viaLoad = assertThrows(CheckpointFormatException.class, () -> WeightFiles.load(f));
        assertEquals(e.getMessage(), viaLoad.getMessage());
    }

    private int counter;

    private Path torchZip(byte[] pickle) throws IOException {
        Path f = tmp.resolve("case" + (counter++) + ".pth.tar");
        PickleBuilder.writeTorchZip(f, pickle, Map.of());
        return f;
    }

    private Path oneTensor(String storageType, int storageNumel, int offset, int[] size, int[] stride, byte[] blob) throws IOException {
        byte[] pickle = new PickleBuilder().emptyDict().str("w").tensor(storageType, "0", storageNumel, offset, size, stride)
                .setItem().stop().bytes();
        Path f = tmp.resolve("tensor" + (counter++) + ".pth");
        PickleBuilder.writeTorchZip(f, pickle, Map.of("0", blob));
        return f;
    }

    /** The golden checkpoint's data.pkl, with its storage blobs put into {@code blobs} by key. */
    private static byte[] goldenEntries(Map<String, byte[]> blobs) throws IOException {
        byte[] pickle = null;
        try (ZipFile zip = new ZipFile(golden("checkpoint.pth.tar").toFile())) {
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                try (InputStream in = zip.getInputStream(e)) {
                    byte[] b = in.readAllBytes();
                    if (e.getName().endsWith("/data.pkl")) pickle = b;
                    else if (e.getName().contains("/data/")) blobs.put(e.getName().substring(e.getName().lastIndexOf('/') + 1), b);
                }
            }
        }
        assertNotNull(pickle);
        return pickle;
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private static byte[] shorts(short... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (short x : v) b.putShort(x);
        return b.array();
    }
}
