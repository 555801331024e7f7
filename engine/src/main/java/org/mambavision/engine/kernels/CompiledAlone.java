package org.mambavision.engine.kernels;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A loop over arrays that C2 must compile on its own, never inlined into a caller (see {@link JitInlining},
 * which turns these into "do not inline" entries of its compiler directive). For loops whose vector helpers
 * (erf, tanh, exp) fill a compilation by themselves: inlined into a driver that calls several such loops,
 * they push the driver past C2's node budget (NodeCountInliningCutoff), a helper is left out, and every
 * vector it passes is boxed. The class must be listed in {@link JitInlining#CLASSES}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface CompiledAlone {}
