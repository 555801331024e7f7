package org.mambavision.serving;

/**
 * How the server listens and batches. {@code maxQueue} bounds the requests waiting per model (a full queue answers
 * 503); {@code timeoutMs} is each request's deadline from arrival (504 past it); {@code maxBodyBytes} bounds one
 * request body (413 above it); {@code bodyBudgetBytes} bounds the bodies held in memory at once (503 above it), so
 * many large requests together cannot exhaust the heap.
 */
public record ServerConfig(String host, int port, int maxBatch, long maxDelayMs, int maxQueue, int workers, long timeoutMs,
                           long maxBodyBytes, long bodyBudgetBytes, String token) {
    public static final long DEFAULT_MAX_BODY = 64L << 20;

    public ServerConfig {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host must not be empty");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0..65535, got " + port);
        if (maxBatch < 1) throw new IllegalArgumentException("--max-batch must be >= 1, got " + maxBatch);
        if (maxDelayMs < 0) throw new IllegalArgumentException("--max-delay-ms must be >= 0, got " + maxDelayMs);
        if (maxQueue < 1) throw new IllegalArgumentException("--max-queue must be >= 1, got " + maxQueue);
        if (workers < 1) throw new IllegalArgumentException("--workers must be >= 1, got " + workers);
        if (timeoutMs < 1) throw new IllegalArgumentException("--timeout-ms must be >= 1, got " + timeoutMs);
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("--max-body-mb: the body limit must be at least 1 KiB, got " + maxBodyBytes + " bytes");
        if (bodyBudgetBytes < maxBodyBytes) bodyBudgetBytes = maxBodyBytes;
        if (token != null && token.isBlank()) throw new IllegalArgumentException("the bearer token must not be empty");
    }

    /** 127.0.0.1:8080, batches of up to 32 within 5 ms, 256 queued requests, one worker, 30 s deadline, 64 MB bodies. */
    public static ServerConfig defaults() {
        long budget = Math.max(DEFAULT_MAX_BODY, Runtime.getRuntime().maxMemory() / 4);
        return new ServerConfig("127.0.0.1", 8080, 32, 5, 256, 1, 30_000, DEFAULT_MAX_BODY, budget, null);
    }

    public ServerConfig withAddress(String h, int p) {
        return new ServerConfig(h, p, maxBatch, maxDelayMs, maxQueue, workers, timeoutMs, maxBodyBytes, bodyBudgetBytes, token);
    }

    public ServerConfig withBatching(int batch, long delayMs, int queue, int nWorkers) {
        return new ServerConfig(host, port, batch, delayMs, queue, nWorkers, timeoutMs, maxBodyBytes, bodyBudgetBytes, token);
    }

    public ServerConfig withLimits(long deadlineMs, long bodyBytes, long budgetBytes) {
        return new ServerConfig(host, port, maxBatch, maxDelayMs, maxQueue, workers, deadlineMs, bodyBytes, budgetBytes, token);
    }

    public ServerConfig withToken(String t) {
        return new ServerConfig(host, port, maxBatch, maxDelayMs, maxQueue, workers, timeoutMs, maxBodyBytes, bodyBudgetBytes, t);
    }
}
