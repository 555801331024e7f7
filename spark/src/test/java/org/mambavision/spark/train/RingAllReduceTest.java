package org.mambavision.spark.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ring over loopback sockets, each process a thread; no Spark. */
class RingAllReduceTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    /** Opens {@code size} servers and joins them into rings, one per thread. */
    List<RingAllReduce> ring(int size, Duration timeout) throws Exception {
        List<ServerSocket> servers = new ArrayList<>();
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            ServerSocket s = RingAllReduce.listen("127.0.0.1");
            servers.add(s);
            addresses.add(new InetSocketAddress("127.0.0.1", s.getLocalPort()));
        }
        List<Future<RingAllReduce>> joins = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            int rank = r;
            joins.add(pool.submit(() -> RingAllReduce.connect(rank, addresses, servers.get(rank), 42L, timeout)));
        }
        List<RingAllReduce> rings = new ArrayList<>();
        for (Future<RingAllReduce> f : joins) rings.add(f.get(30, TimeUnit.SECONDS));
        for (ServerSocket s : servers) s.close();
        return rings;
    }

    @Test
    void everyProcessGetsTheSameSumForAnyLength() throws Exception {
        for (int size : new int[] {1, 2, 3, 5}) {
            List<RingAllReduce> rings = ring(size, Duration.ofSeconds(20));
            for (int n : new int[] {0, 1, size - 1, 7, 200_003}) {
                float[][] buffers = new float[size][n];
                double[] exact = new double[n];
                SplittableRandom rnd = new SplittableRandom(n * 31L + size);
                for (float[] b : buffers) {
                    for (int i = 0; i < n; i++) {
                        b[i] = (float) rnd.nextGaussian();
                        exact[i] += b[i];
                    }
                }
                List<Future<Void>> calls = new ArrayList<>();
                for (int r = 0; r < size; r++) {
                    int rank = r;
                    calls.add(pool.submit((Callable<Void>) () -> {
                        rings.get(rank).allReduceSum(buffers[rank]);
                        return null;
                    }));
                }
                for (Future<Void> f : calls) f.get(60, TimeUnit.SECONDS);
                for (int r = 1; r < size; r++) assertArrayEquals(buffers[0], buffers[r], "rank " + r + ", size " + size + ", n " + n + ": not the same bits");
                for (int i = 0; i < n; i++) assertEquals(exact[i], buffers[0][i], 1e-5 * size, "element " + i);
            }
            for (RingAllReduce r : rings) r.close();
        }
    }

    @Test
    void aPeerThatStopsAnsweringFailsTheCallWithinTheTimeout() throws Exception {
        List<RingAllReduce> rings = ring(2, Duration.ofMillis(800));
        long t0 = System.nanoTime();
        // rank 1 is connected but never calls: rank 0 waits for its data
        IOException e = assertThrows(IOException.class, () -> rings.get(0).allReduceSum(new float[1000]));
        double seconds = (System.nanoTime() - t0) * 1e-9;
        assertTrue(seconds >= 0.7 && seconds < 5, "failed after " + seconds + " s");
        assertTrue(e.getMessage().contains("no data from rank 1 within 800 ms"), e.getMessage());
        // and the ring is closed, so rank 1 fails at once rather than after its own timeout
        long t1 = System.nanoTime();
        IOException peer = assertThrows(IOException.class, () -> rings.get(1).allReduceSum(new float[1000]));
        assertTrue((System.nanoTime() - t1) * 1e-9 < 0.7, peer.getMessage());
        rings.get(1).close();
    }

    @Test
    void aPeerThatNeverConnectsFailsTheJoinWithinTheTimeout() throws Exception {
        ServerSocket mine = RingAllReduce.listen("127.0.0.1");
        ServerSocket silent = RingAllReduce.listen("127.0.0.1"); // listens, never joins
        List<InetSocketAddress> addresses = List.of(new InetSocketAddress("127.0.0.1", mine.getLocalPort()),
                new InetSocketAddress("127.0.0.1", silent.getLocalPort()));
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> RingAllReduce.connect(0, addresses, mine, 7L, Duration.ofMillis(600)));
        assertTrue((System.nanoTime() - t0) * 1e-9 < 5);
        assertTrue(e.getMessage().contains("rank 1 did not connect"), e.getMessage());
        mine.close();
        silent.close();
    }
}
