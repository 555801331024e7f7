package org.mambavision.serving;

/** A request the server answers with {@code status} and a JSON body {@code {"error": message}}. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String retryAfterSeconds;

    public ApiException(int status, String message) {
        this(status, message, null);
    }

    public ApiException(int status, String message, String retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    public static ApiException overloaded(String message) {
        return new ApiException(503, message, "1");
    }

    public int status() {
        return status;
    }

    /** The Retry-After header to send, or null. */
    public String retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
