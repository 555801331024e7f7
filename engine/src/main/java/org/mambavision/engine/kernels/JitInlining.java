package org.mambavision.engine.kernels;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import javax.management.ObjectName;
import org.mambavision.engine.SystemProperty;

/**
 * Tells C2 to inline every engine helper that takes or returns a vector (e.g. {@code VecMath.exp},
 * {@code Activations.siluDerivative}), through a compiler directive added at run time (the
 * {@code Compiler.directives_add} diagnostic command, as {@code jcmd} would).
 *
 * <p>Why: a vector crosses a call boundary only as a heap object. A helper that is hot is soon compiled on
 * its own (it is called from C1 code during warm-up), and its compiled code, boxing included, is then
 * larger than C2's {@code InlineSmallCode}; every later compile of a caller refuses to inline it
 * ("already compiled into a big method") and boxes each vector it passes or gets back. Whether a caller
 * was compiled before or after the helper varies from run to run: erf-GELU allocated a vector at every
 * call in one profile (89% of a flat_tiny training step's allocations), and a masked softmax ran 20-60x
 * slower. Forcing the inlining in C2 takes the race away. C1 is left alone (its compiles have size limits
 * of their own, and it runs only during warm-up).
 *
 * <p>Best effort: where the diagnostic command is unavailable, nothing changes but speed.
 * {@code -Dmv.jitInlining=false} turns it off.
 */
public final class JitInlining {
    /** The engine classes that declare vector helpers (JitInliningTest checks that none is missing). */
    static final String[] CLASSES = {
        "org.mambavision.engine.kernels.VecMath",
        "org.mambavision.engine.kernels.Broadcast",
        "org.mambavision.engine.kernels.Gemm",
        "org.mambavision.engine.ops.Activations",
        "org.mambavision.engine.ops.SelectiveScan",
    };

    private static java.util.concurrent.CompletableFuture<Boolean> result;

    private JitInlining() {}

    /**
     * Adds the directive once per JVM, on a daemon thread: starting the platform MBean server takes about
     * 0.3 s, and the directive is needed only by the time C2 compiles the kernels' callers (seconds into a
     * run). Cheap after the first call.
     */
    public static synchronized void install() {
        if (result != null) return;
        result = new java.util.concurrent.CompletableFuture<>();
        if (!SystemProperty.JIT_INLINING.booleanValue(true)) {
            result.complete(false);
            return;
        }
        Thread t = new Thread(() -> result.complete(add(directive())), "mv-jit-directive");
        t.setDaemon(true);
        t.start();
    }

    /** Waits for {@link #install()} (starting it if needed); whether the directive is in place. */
    public static boolean awaitInstalled() {
        install();
        return result.join();
    }

    /**
     * The directive's JSON: C2 inlines each vector helper into any caller of ours, and never inlines a
     * {@link CompiledAlone} loop.
     */
    static String directive() {
        StringBuilder inline = new StringBuilder();
        for (String m : vectorHelpers()) inline.append(inline.isEmpty() ? "" : ", ").append("\"+").append(m).append('"');
        for (String m : compiledAlone()) inline.append(inline.isEmpty() ? "" : ", ").append("\"-").append(m).append('"');
        return "[{ match: \"org/mambavision/*.*\", c2: { inline: [" + inline + "] } }]";
    }

    /** "package/Class.method" for each {@link CompiledAlone} method of {@link #CLASSES}. */
    static List<String> compiledAlone() {
        return methodsOfClasses(m -> m.isAnnotationPresent(CompiledAlone.class));
    }

    /** "package/Class.method" for each method of {@link #CLASSES} with a vector or mask in its signature. */
    static List<String> vectorHelpers() {
        return methodsOfClasses(JitInlining::hasVectorSignature);
    }

    private static List<String> methodsOfClasses(java.util.function.Predicate<Method> which) {
        TreeSet<String> names = new TreeSet<>();
        ClassLoader loader = JitInlining.class.getClassLoader();
        for (String cn : CLASSES) {
            try {
                Class<?> c = Class.forName(cn, false, loader); // no static initialisation (those call install)
                for (Method m : c.getDeclaredMethods()) {
                    if (which.test(m)) names.add(cn.replace('.', '/') + "." + m.getName());
                }
            } catch (ClassNotFoundException | LinkageError e) {
                // a class left out of a trimmed build: its helpers just are not listed
            }
        }
        return new ArrayList<>(names);
    }

    static boolean hasVectorSignature(Method m) {
        if (isVector(m.getReturnType())) return true;
        for (Class<?> p : m.getParameterTypes()) if (isVector(p)) return true;
        return false;
    }

    private static boolean isVector(Class<?> t) {
        return jdk.incubator.vector.Vector.class.isAssignableFrom(t) || jdk.incubator.vector.VectorMask.class.isAssignableFrom(t);
    }

    private static boolean add(String json) {
        Path file = null;
        try {
            file = Files.createTempFile("mambavision-jit", ".json");
            Files.writeString(file, json, StandardCharsets.UTF_8);
            Object reply = ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            return String.valueOf(reply).contains("added");
        } catch (Exception | LinkageError e) {
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (Exception ignored) {
                    // a temporary file left behind in the temp folder is harmless
                }
            }
        }
    }
}
