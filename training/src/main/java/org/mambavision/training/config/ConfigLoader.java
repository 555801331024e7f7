package org.mambavision.training.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.mambavision.engine.io.AtomicFiles;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.constructor.StandardConstructor;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads a {@link TrainConfig} from a flat YAML mapping ({@code key: value} per line), applies
 * {@code --set key=value} overrides and writes the effective configuration back.
 *
 * <p>Parsing is snakeyaml-engine's: safe by construction (it builds only maps, lists, strings, numbers,
 * booleans and null; no tags name Java classes), YAML 1.2 core schema ({@code 1e-3} is a number, {@code yes}
 * is a string), duplicate keys rejected. The document is composed to nodes first so that every error can name
 * the file and line of the offending key.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** Defaults overridden by the keys in {@code yaml}, validated. */
    public static TrainConfig load(Path yaml) {
        return load(yaml, List.of());
    }

    /** Defaults, then {@code yaml} (may be null), then each {@code key=value} override in order; validated. */
    public static TrainConfig load(Path yaml, List<String> overrides) {
        TrainConfig cfg = TrainConfig.defaults();
        Map<String, Integer> lines = yaml == null ? Map.of() : apply(cfg, read(yaml), yaml.toString());
        for (String o : overrides) apply(cfg, o);
        try {
            return cfg.validate();
        } catch (ConfigException e) {
            Integer line = lines.get(e.key());
            if (line == null || overrides.stream().anyMatch(o -> o.strip().startsWith(e.key() + "="))) throw e;
            throw new ConfigException(e.getMessage() + " (" + yaml + ", line " + line + ")", e.key(), e);
        }
    }

    /** Parses {@code text} and applies its keys to defaults; {@code label} names the source in messages. */
    public static TrainConfig loadString(String text, String label) {
        TrainConfig cfg = TrainConfig.defaults();
        apply(cfg, text, label);
        return cfg.validate();
    }

    private static String read(Path yaml) {
        try {
            return Files.readString(yaml, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + yaml + " does not exist", null, e);
        } catch (MalformedInputException e) {
            throw new ConfigException("config file " + yaml + " is not UTF-8 text", null, e);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + yaml + ": " + e, null, e);
        }
    }

    /**
     * Deepest nesting of lists and mappings a config may have. Config values are at most a list of numbers;
     * the limit is there because the composer recurses per level, so a value nested thousands deep would
     * overflow the stack instead of being reported.
     */
    static final int MAX_NESTING = 50;

    private static LoadSettings settings(String label) {
        return LoadSettings.builder().setLabel(label).setSchema(new CoreSchema())
                .setAllowDuplicateKeys(false).setMaxAliasesForCollections(20).build();
    }

    /**
     * Applies every key of the YAML mapping in {@code text} to {@code cfg} (no cross-key validation).
     * Returns the 1-based line of each key.
     */
    static Map<String, Integer> apply(TrainConfig cfg, String text, String label) {
        LoadSettings settings = settings(label);
        Optional<Node> root;
        try {
            checkNesting(settings, text, label);
            root = new Compose(settings).composeString(text);
        } catch (YamlEngineException e) {
            throw parseError(label, e);
        }
        Map<String, Integer> lines = new HashMap<>();
        if (root.isEmpty()) return lines; // empty file: all defaults
        if (!(root.get() instanceof MappingNode map)) {
            throw new ConfigException("config " + label + line(root.get()) + ": expected 'key: value' lines at the "
                    + "top level, got a " + root.get().getNodeType().name().toLowerCase(java.util.Locale.ROOT));
        }
        for (NodeTuple t : map.getValue()) {
            Node keyNode = t.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                throw new ConfigException("config " + label + line(keyNode) + ": keys must be plain names");
            }
            String key = scalarKey.getValue().strip().replace('-', '_');
            int keyLine = keyNode.getStartMark().map(m -> m.getLine() + 1).orElse(0);
            Integer previous = lines.put(key, keyLine);
            if (previous != null) {
                throw new ConfigException("config key '" + key + "' appears twice in " + label + " (lines " + previous
                        + " and " + keyLine + ")", key);
            }
            Object value;
            try {
                value = new StandardConstructor(settings).constructSingleDocument(Optional.of(t.getValueNode()));
            } catch (YamlEngineException e) {
                throw parseError(label, e);
            }
            String where = label + (keyLine > 0 ? ", line " + keyLine : "");
            try {
                cfg.set(key, value, where);
            } catch (ConfigException e) {
                if (!TrainConfig.isKey(key)) throw e; // the unknown-key message already says where
                throw new ConfigException(e.getMessage() + " (" + where + ")", e.key(), e);
            }
        }
        return lines;
    }

    /**
     * Applies one {@code --set key=value}. The value is read as YAML ({@code 64}, {@code 1e-3}, {@code true},
     * {@code null}, {@code [0.9, 0.999]}); text that isn't valid YAML or reads as a mapping is taken literally.
     */
    public static TrainConfig apply(TrainConfig cfg, String keyEqualsValue) {
        int eq = keyEqualsValue.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set expects key=value, got '" + keyEqualsValue + "'");
        }
        String key = keyEqualsValue.substring(0, eq).strip();
        String text = keyEqualsValue.substring(eq + 1).strip();
        Object value;
        try {
            LoadSettings settings = settings("--set " + key);
            checkNesting(settings, text, "--set " + key);
            value = new Load(settings).loadFromString(text);
            if (value instanceof Map<?, ?>) value = text;
        } catch (YamlEngineException e) {
            value = text;
        }
        cfg.set(key, value, "--set");
        return cfg;
    }

    /** The effective configuration as YAML: every key in documented order, lists inline. */
    public static String toYaml(TrainConfig cfg) {
        DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.AUTO).setIndent(2)
                .setWidth(120).build();
        return "# MambaVision training configuration (effective values, all keys)\n"
                + new Dump(settings).dumpToString(cfg.toMap());
    }

    /** Writes {@link #toYaml} to {@code file} atomically. */
    public static void writeYaml(TrainConfig cfg, Path file) throws IOException {
        AtomicFiles.writeString(file, toYaml(cfg));
    }

    /**
     * Refuses a document nested deeper than {@link #MAX_NESTING}, naming where. The parser is iterative (an
     * explicit state stack), so it walks any depth safely before the recursive composer sees the document.
     */
    private static void checkNesting(LoadSettings settings, String text, String label) {
        int depth = 0;
        for (Event e : new Parse(settings).parseString(text)) {
            switch (e.getEventId()) {
                case SequenceStart, MappingStart -> {
                    if (++depth > MAX_NESTING) {
                        String where = e.getStartMark().map(m -> ", line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1)).orElse("");
                        throw new ConfigException("config " + label + where + ": lists and mappings nested more than " + MAX_NESTING
                                + " deep; config values are plain values or lists of them", null);
                    }
                }
                case SequenceEnd, MappingEnd -> depth--;
                default -> { }
            }
        }
    }

    private static ConfigException parseError(String label, YamlEngineException e) {
        if (e instanceof MarkedYamlEngineException m) {
            Optional<Mark> mark = m.getProblemMark().or(m::getContextMark);
            String problem = m.getProblem() != null ? m.getProblem() : m.getContext();
            String where = mark.map(k -> ", line " + (k.getLine() + 1) + ", column " + (k.getColumn() + 1)).orElse("");
            String context = m.getContext() != null && !m.getContext().isBlank() && m.getProblem() != null ? " (" + m.getContext() + ")" : "";
            return new ConfigException("cannot parse config " + label + where + ": " + problem + context, null, e);
        }
        return new ConfigException("cannot parse config " + label + ": " + e.getMessage(), null, e);
    }

    private static String line(Node node) {
        return node.getStartMark().map(m -> ", line " + (m.getLine() + 1)).orElse("");
    }
}
