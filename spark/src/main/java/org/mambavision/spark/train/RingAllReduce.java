package org.mambavision.spark.train;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.mambavision.training.ProcessGroup;

/**
 * A ring all-reduce over TCP: process r sends to r + 1 and receives from r - 1 (mod size). The buffer is cut into
 * {@code size} chunks; in {@code size - 1} reduce-scatter steps each chunk is summed once around the ring, always
 * starting at the same process and in the same order, and in {@code size - 1} all-gather steps the finished chunks
 * are copied around. So every process ends with the same bits, and each sends and receives about twice the buffer
 * whatever the group size.
 *
 * <p>Every wait is bounded: connecting, accepting, each read ({@code SO_TIMEOUT}) and each write (a sender thread
 * whose completion is awaited), so a peer that stops answering fails the call within the timeout instead of hanging.
 */
public final class RingAllReduce implements ProcessGroup, AutoCloseable {
    private static final int MAGIC = 0x4D56_5231; // "MVR1"
    /** Floats per socket write or read: 256 KiB. */
    private static final int PIECE = 1 << 16;

    private final int rank, size;
    private final Duration timeout;
    private final Socket toNext, fromPrev;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final ExecutorService sender;
    private final byte[] sendBytes = new byte[PIECE * 4], recvBytes = new byte[PIECE * 4];
    private float[] incoming = new float[0];
    private long calls;

    private RingAllReduce(int rank, int size, Duration timeout, Socket toNext, Socket fromPrev) throws IOException {
        this.rank = rank;
        this.size = size;
        this.timeout = timeout;
        this.toNext = toNext;
        this.fromPrev = fromPrev;
        this.out = toNext == null ? null : new DataOutputStream(new BufferedOutputStream(toNext.getOutputStream(), 1 << 16));
        this.in = fromPrev == null ? null : new DataInputStream(new BufferedInputStream(fromPrev.getInputStream(), 1 << 16));
        this.sender = size == 1 ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ring-all-reduce-send-" + rank);
            t.setDaemon(true);
            return t;
        });
    }

    /** A server socket on {@code host} (an ephemeral port) for the previous process to connect to; open it before the addresses are exchanged. */
    public static ServerSocket listen(String host) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
        return s;
    }

    /**
     * Joins the ring as {@code rank} of {@code addresses.size()}: connects to the next process's address and accepts
     * the previous one on {@code server}, both within {@code timeout}. {@code token} identifies the job (a connection
     * with another token, or from another rank than the previous one, is refused).
     */
    public static RingAllReduce connect(int rank, List<InetSocketAddress> addresses, ServerSocket server, long token, Duration timeout)
            throws IOException {
        int size = addresses.size();
        if (rank < 0 || rank >= size) throw new IllegalArgumentException("rank " + rank + " of " + size);
        if (size == 1) return new RingAllReduce(0, 1, timeout, null, null);
        long deadline = System.nanoTime() + timeout.toNanos();
        int next = (rank + 1) % size, prev = (rank + size - 1) % size;
        Socket toNext = null, fromPrev = null;
        try {
            toNext = connectTo(addresses.get(next), next, deadline);
            DataOutputStream hello = new DataOutputStream(toNext.getOutputStream());
            hello.writeInt(MAGIC);
            hello.writeLong(token);
            hello.writeInt(rank);
            hello.flush();
            fromPrev = acceptFrom(server, prev, token, deadline);
            for (Socket s : new Socket[] {toNext, fromPrev}) {
                s.setTcpNoDelay(true);
                s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            }
            return new RingAllReduce(rank, size, timeout, toNext, fromPrev);
        } catch (IOException | RuntimeException e) {
            closeQuietly(toNext);
            closeQuietly(fromPrev);
            throw e;
        }
    }

    private static Socket connectTo(InetSocketAddress address, int peer, long deadline) throws IOException {
        IOException last = null;
        while (System.nanoTime() < deadline) {
            Socket s = new Socket();
            try {
                s.connect(address, (int) Math.max(1, remainingMillis(deadline)));
                return s;
            } catch (IOException e) { // refused while the peer starts: try again until the deadline
                closeQuietly(s);
                last = e;
                sleep(50);
            }
        }
        throw new IOException("could not connect to rank " + peer + " at " + address + " within the timeout" + (last == null ? "" : " (" + last.getMessage() + ")"));
    }

    private static Socket acceptFrom(ServerSocket server, int peer, long token, long deadline) throws IOException {
        while (true) {
            long left = remainingMillis(deadline);
            if (left <= 0) throw new IOException("rank " + peer + " did not connect within the timeout");
            server.setSoTimeout((int) Math.max(1, left));
            Socket s;
            try {
                s = server.accept();
            } catch (SocketTimeoutException e) {
                throw new IOException("rank " + peer + " did not connect within the timeout", e);
            }
            try {
                s.setSoTimeout((int) Math.max(1, remainingMillis(deadline)));
                DataInputStream hello = new DataInputStream(s.getInputStream());
                if (hello.readInt() == MAGIC && hello.readLong() == token && hello.readInt() == peer) return s;
            } catch (IOException e) {
                // not one of ours, or it gave up: wait for the real peer
            }
            closeQuietly(s);
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    /** The number of all-reduce calls made so far. */
    public long calls() {
        return calls;
    }

    /** Sums over the ring; after a failure the ring is closed (so that the peers fail at once too) and every later call fails. */
    @Override
    public void allReduceSum(float[] buffer) throws IOException {
        calls++;
        if (size == 1) return;
        if (toNext.isClosed()) throw new IOException("rank " + rank + ": the ring is closed after an earlier failure");
        try {
            ringSteps(buffer);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void ringSteps(float[] buffer) throws IOException {
        int n = buffer.length;
        if (incoming.length < n / size + 1) incoming = new float[n / size + 1];
        for (int s = 0; s < size - 1; s++) { // reduce-scatter: chunk (rank - s) goes on, chunk (rank - s - 1) comes in and is added
            int send = Math.floorMod(rank - s, size), recv = Math.floorMod(rank - s - 1, size);
            exchange(buffer, send, recv, true);
        }
        for (int s = 0; s < size - 1; s++) { // all-gather: the finished chunks travel once around
            int send = Math.floorMod(rank + 1 - s, size), recv = Math.floorMod(rank - s, size);
            exchange(buffer, send, recv, false);
        }
    }

    private int chunkStart(int n, int c) {
        return (int) ((long) n * c / size);
    }

    /** Sends chunk {@code send} to the next process while receiving chunk {@code recv} from the previous one. */
    private void exchange(float[] buffer, int send, int recv, boolean add) throws IOException {
        int n = buffer.length;
        int sOff = chunkStart(n, send), sLen = chunkStart(n, send + 1) - sOff;
        int rOff = chunkStart(n, recv), rLen = chunkStart(n, recv + 1) - rOff;
        Future<?> sent = sender.submit(() -> {
            write(buffer, sOff, sLen);
            return null;
        });
        try {
            read(incoming, rLen);
            if (add) {
                for (int i = 0; i < rLen; i++) buffer[rOff + i] += incoming[i];
            } else {
                System.arraycopy(incoming, 0, buffer, rOff, rLen);
            }
            sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (SocketTimeoutException e) {
            sent.cancel(true);
            throw new IOException("rank " + rank + ": no data from rank " + Math.floorMod(rank - 1, size) + " within " + timeout.toMillis() + " ms", e);
        } catch (TimeoutException e) {
            sent.cancel(true);
            throw new IOException("rank " + rank + ": rank " + (rank + 1) % size + " did not take our data within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? new IOException("rank " + rank + ": sending to rank " + (rank + 1) % size + ": " + io.getMessage(), io)
                    : new IOException("rank " + rank + ": sending failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            sent.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException("rank " + rank + ": interrupted during the all-reduce", e);
        } catch (EOFException e) {
            throw new IOException("rank " + rank + ": rank " + Math.floorMod(rank - 1, size) + " closed the connection (it failed or stopped)", e);
        } catch (IOException e) {
            throw new IOException("rank " + rank + ": receiving from rank " + Math.floorMod(rank - 1, size) + ": " + e.getMessage(), e);
        }
    }

    private void write(float[] buffer, int off, int len) throws IOException {
        out.writeInt(len);
        ByteBuffer bytes = ByteBuffer.wrap(sendBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < len; p += PIECE) {
            int k = Math.min(PIECE, len - p);
            bytes.clear();
            bytes.asFloatBuffer().put(buffer, off + p, k);
            out.write(sendBytes, 0, k * 4);
        }
        out.flush();
    }

    private void read(float[] into, int len) throws IOException {
        int announced = in.readInt();
        if (announced != len) {
            throw new IOException("rank " + rank + ": rank " + Math.floorMod(rank - 1, size) + " sent " + announced + " values where " + len
                    + " were expected: the processes are out of step");
        }
        ByteBuffer bytes = ByteBuffer.wrap(recvBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < len; p += PIECE) {
            int k = Math.min(PIECE, len - p);
            in.readFully(recvBytes, 0, k * 4);
            bytes.clear();
            bytes.asFloatBuffer().get(into, p, k);
        }
    }

    @Override
    public void close() {
        if (sender != null) sender.shutdownNow();
        closeQuietly(toNext);
        closeQuietly(fromPrev);
    }

    private static long remainingMillis(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting", e);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s == null) return;
        try {
            s.close();
        } catch (IOException ignored) {
            // closing after a failure: the failure is what matters
        }
    }
}
