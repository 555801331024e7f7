package org.mambavision.engine;

/**
 * Every JVM system property the code reads, with what it does: {@code -Dname=value}, for {@code ./mambavision}
 * through {@code MV_JAVA_OPTS}. None is needed; without them the code runs as measured and tested.
 * (SystemPropertyTest checks that no other {@code mv.*} property is read anywhere.)
 */
public enum SystemProperty {
    THREADS("mv.threads", "number of kernel threads (default: the available processors)"),
    SPIN_MICROS("mv.spinMicros", "microseconds an idle kernel thread spins before it parks (default 1000); waking a parked"
            + " thread can take milliseconds on a VM. No spinning while other threads want the CPUs (CpuContention)"),
    JIT_INLINING("mv.jitInlining", "false: do not add the C2 directive that inlines the vector helpers (see JitInlining)"),
    GEMM_KC("mv.gemm.kc", "GEMM depth block, floats (default 192): an A micro-panel stays in L1; for a CPU with other caches"),
    GEMM_MC("mv.gemm.mc", "GEMM rows of A packed at a time (default 240): MC x KC floats stay in L2"),
    GEMM_NC("mv.gemm.nc", "GEMM columns of a packed B block (default 576): KC x NC floats stay in L2"),
    ONNX_SCAN("mv.onnx.scan", "ONNX export: how the selective scan is written, scan (default: an ONNX Scan carrying the state)"
            + " or unrolled (nodes per step); the README's ONNX section says what each measured in ONNX Runtime"),
    GOLDEN("mv.golden", "tests only: the folder of golden test vectors (default ../shared/golden; Maven sets it)");

    /** The property's name, e.g. {@code mv.threads}. */
    public final String key;
    /** What it does, and its default. */
    public final String doc;

    SystemProperty(String key, String doc) {
        this.key = key;
        this.doc = doc;
    }

    /** The value, or null when unset. */
    public String value() {
        return System.getProperty(key);
    }

    public int intValue(int fallback) {
        return Integer.getInteger(key, fallback);
    }

    public long longValue(long fallback) {
        return Long.getLong(key, fallback);
    }

    /** As {@link Boolean#parseBoolean}: "true" (any case) is true, any other set value false; unset gives {@code fallback}. */
    public boolean booleanValue(boolean fallback) {
        String v = value();
        return v == null ? fallback : Boolean.parseBoolean(v.strip());
    }
}
