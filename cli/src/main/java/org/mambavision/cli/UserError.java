package org.mambavision.cli;

/** A problem with the user's input: printed as one line, exit code 2. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
