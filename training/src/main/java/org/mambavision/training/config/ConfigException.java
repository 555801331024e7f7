package org.mambavision.training.config;

/**
 * A configuration that can't be used: unknown key, wrong type, value out of range, unparsable YAML.
 * The message is meant for the user as is.
 */
public class ConfigException extends IllegalArgumentException {
    private final String key;

    public ConfigException(String message) {
        this(message, null, null);
    }

    public ConfigException(String message, String key) {
        this(message, key, null);
    }

    public ConfigException(String message, String key, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The config key the problem is about, or null if it isn't about one key. */
    public String key() {
        return key;
    }
}
