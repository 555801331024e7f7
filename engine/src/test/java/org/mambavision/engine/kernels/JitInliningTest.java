package org.mambavision.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class JitInliningTest {
    /** Every engine class that declares a method taking or returning a vector must be listed, or its helpers can be boxed. */
    @Test
    void everyClassWithVectorHelpersIsListed() throws Exception {
        Path root = Path.of(JitInlining.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(root), "engine classes are read from the build directory: " + root);
        List<String> missing = new ArrayList<>();
        int withHelpers = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String name = root.relativize(f).toString().replace('/', '.').replace(".class", "");
                String outer = name.contains("$") ? name.substring(0, name.indexOf('$')) : name;
                Class<?> c = Class.forName(name, false, JitInlining.class.getClassLoader());
                if (Arrays.stream(c.getDeclaredMethods()).anyMatch(m -> JitInlining.hasVectorSignature(m) || m.isAnnotationPresent(CompiledAlone.class))) {
                    withHelpers++;
                    if (!Arrays.asList(JitInlining.CLASSES).contains(name)) missing.add(name + (name.equals(outer) ? "" : " (nested)"));
                }
            }
        }
        assertTrue(withHelpers >= 5, "found the vector helpers of VecMath, Activations, ...: " + withHelpers);
        assertEquals(List.of(), missing, "classes with vector helpers not in JitInlining.CLASSES");
    }

    @Test
    void helpersAreFoundBySignature() throws Exception {
        List<String> helpers = JitInlining.vectorHelpers();
        assertTrue(helpers.contains("org/mambavision/engine/kernels/VecMath.exp"), helpers.toString());
        assertTrue(helpers.contains("org/mambavision/engine/ops/Activations.siluDerivative"), helpers.toString());
        // array-level methods are not forced into their callers
        assertFalse(helpers.contains("org/mambavision/engine/kernels/VecMath.softmaxScaled"), helpers.toString());
        Method rowMax = VecMath.class.getMethod("max", float[].class, int.class, int.class);
        assertFalse(JitInlining.hasVectorSignature(rowMax));
    }

    @Test
    void compiledAloneLoopsAreNeverInlined() {
        List<String> alone = JitInlining.compiledAlone();
        assertTrue(alone.contains("org/mambavision/engine/ops/Activations.geluCdf"), alone.toString());
        assertTrue(alone.contains("org/mambavision/engine/ops/Activations.sigmoid"), alone.toString());
        String directive = JitInlining.directive();
        assertTrue(directive.contains("\"-org/mambavision/engine/ops/Activations.geluCdf\""), directive);
        assertTrue(directive.contains("\"+org/mambavision/engine/kernels/VecMath.exp\""), directive);
        // a loop is never both forced in and kept out
        for (String m : alone) assertFalse(JitInlining.vectorHelpers().contains(m), m);
    }

    /** On HotSpot (what the project runs on) the directive is in place once the engine's kernels are loaded. */
    @Test
    void directiveIsInstalled() throws Exception {
        VecMath.exp(1f); // class initialisation installs it
        assertTrue(JitInlining.awaitInstalled());
        String printed = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "compilerDirectivesPrint", new Object[] {new String[0]}, new String[] {String[].class.getName()}));
        assertTrue(printed.contains("+org/mambavision/engine/kernels/VecMath.exp"), printed);
        assertTrue(printed.contains("-org/mambavision/engine/ops/Activations.geluCdf"), printed);
    }
}
