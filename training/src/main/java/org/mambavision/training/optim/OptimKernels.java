package org.mambavision.training.optim;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise optimizer kernels over a range [s, e) of flat float arrays: Vector API main loop,
 * scalar tail with the same float operations in the same order (no FMA), so a value does not
 * depend on whether it landed in a vector lane or in the tail.
 */
final class OptimKernels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private OptimKernels() {}

    /**
     * torch.optim.AdamW, one element: p *= decayMul; m += (1-b1)(g-m); v = b2 v + (1-b2) g^2;
     * p -= stepSize * m / (sqrt(v)/bc2Sqrt + eps).
     */
    static void adamw(float[] p, float[] g, float[] m, float[] v, int s, int e, float decayMul, float oneMinusB1,
                      float b2, float oneMinusB2, float bc2Sqrt, float eps, float stepSize) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            FloatVector mv = FloatVector.fromArray(F, m, i);
            FloatVector vv = FloatVector.fromArray(F, v, i);
            FloatVector pv = FloatVector.fromArray(F, p, i).mul(decayMul);
            mv = mv.add(gv.sub(mv).mul(oneMinusB1));
            vv = vv.mul(b2).add(gv.mul(gv).mul(oneMinusB2));
            FloatVector denom = vv.sqrt().div(bc2Sqrt).add(eps);
            pv = pv.sub(mv.div(denom).mul(stepSize));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            pv.intoArray(p, i);
        }
        for (; i < e; i++) {
            float gi = g[i], mi = m[i], vi = v[i], pi = p[i] * decayMul;
            mi = mi + (gi - mi) * oneMinusB1;
            vi = vi * b2 + gi * gi * oneMinusB2;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p[i] = pi - mi / denom * stepSize;
            m[i] = mi;
            v[i] = vi;
        }
    }

    /**
     * torch.optim.SGD, one element: d = g + wd p; buf = init ? d : momentum buf + (1-dampening) d;
     * d = nesterov ? d + momentum buf : buf (momentum != 0); p -= lr d. {@code buf} is null when momentum is 0.
     */
    static void sgd(float[] p, float[] g, float[] buf, int s, int e, float lr, float wd, float momentum,
                    float oneMinusDampening, boolean initBuffer, boolean nesterov) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            FloatVector d = FloatVector.fromArray(F, g, i);
            if (wd != 0f) d = d.add(pv.mul(wd));
            if (buf != null) {
                FloatVector b = initBuffer ? d : FloatVector.fromArray(F, buf, i).mul(momentum).add(d.mul(oneMinusDampening));
                b.intoArray(buf, i);
                d = nesterov ? d.add(b.mul(momentum)) : b;
            }
            pv.sub(d.mul(lr)).intoArray(p, i);
        }
        for (; i < e; i++) {
            float pi = p[i], d = g[i];
            if (wd != 0f) d = d + pi * wd;
            if (buf != null) {
                float b = initBuffer ? d : buf[i] * momentum + d * oneMinusDampening;
                buf[i] = b;
                d = nesterov ? d + b * momentum : b;
            }
            p[i] = pi - d * lr;
        }
    }

    /**
     * timm Lamb, first pass: updates the moments and returns nothing; writes sum(p^2) and
     * sum(update^2) (double) into {@code sums[0..1]}. The update is
     * (m/bc1) / (sqrt(v)/bc2Sqrt + eps) + wd p.
     */
    static void lambMoments(float[] p, float[] g, float[] m, float[] v, int s, int e, float gradDiv, float b1,
                            float beta3, float b2, float oneMinusB2, float bc1, float bc2Sqrt, float eps, float wd,
                            double[] sums) {
        DoubleVector pAcc = DoubleVector.zero(D), uAcc = DoubleVector.zero(D);
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector gv = FloatVector.fromArray(F, g, i);
            if (gradDiv != 1f) gv = gv.div(gradDiv);
            FloatVector mv = FloatVector.fromArray(F, m, i).mul(b1).add(gv.mul(beta3));
            FloatVector vv = FloatVector.fromArray(F, v, i).mul(b2).add(gv.mul(gv).mul(oneMinusB2));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector pv = FloatVector.fromArray(F, p, i);
            FloatVector u = lambUpdate(pv, mv, vv, bc1, bc2Sqrt, eps, wd);
            pAcc = addSquares(pAcc, pv);
            uAcc = addSquares(uAcc, u);
        }
        double pSum = sumLanes(pAcc), uSum = sumLanes(uAcc);
        for (; i < e; i++) {
            float gi = g[i];
            if (gradDiv != 1f) gi = gi / gradDiv;
            float mi = m[i] * b1 + gi * beta3;
            float vi = v[i] * b2 + gi * gi * oneMinusB2;
            m[i] = mi;
            v[i] = vi;
            float u = lambUpdate(p[i], mi, vi, bc1, bc2Sqrt, eps, wd);
            pSum += (double) p[i] * p[i];
            uSum += (double) u * u;
        }
        sums[0] = pSum;
        sums[1] = uSum;
    }

    /** timm Lamb, second pass: recomputes the update from the stored moments and applies p -= lr * (trust * update). */
    static void lambApply(float[] p, float[] m, float[] v, int s, int e, float bc1, float bc2Sqrt, float eps, float wd,
                          float trust, float lr) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            FloatVector u = lambUpdate(pv, FloatVector.fromArray(F, m, i), FloatVector.fromArray(F, v, i), bc1, bc2Sqrt, eps, wd);
            pv.sub(u.mul(trust).mul(lr)).intoArray(p, i);
        }
        for (; i < e; i++) {
            float u = lambUpdate(p[i], m[i], v[i], bc1, bc2Sqrt, eps, wd);
            p[i] = p[i] - u * trust * lr;
        }
    }

    private static FloatVector lambUpdate(FloatVector p, FloatVector m, FloatVector v, float bc1, float bc2Sqrt, float eps, float wd) {
        FloatVector u = m.div(bc1).div(v.sqrt().div(bc2Sqrt).add(eps));
        return wd != 0f ? u.add(p.mul(wd)) : u;
    }

    private static float lambUpdate(float p, float m, float v, float bc1, float bc2Sqrt, float eps, float wd) {
        float u = m / bc1 / ((float) Math.sqrt(v) / bc2Sqrt + eps);
        return wd != 0f ? u + p * wd : u;
    }

    /** timm ModelEmaV2, one element: ema = decay * ema + (1 - decay) * x. */
    static void ema(float[] ema, float[] x, int s, int e, float decay, float oneMinusDecay) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector.fromArray(F, ema, i).mul(decay).add(FloatVector.fromArray(F, x, i).mul(oneMinusDecay)).intoArray(ema, i);
        }
        for (; i < e; i++) ema[i] = ema[i] * decay + x[i] * oneMinusDecay;
    }

    /** a[i] *= c over [s, e). */
    static void scale(float[] a, int s, int e, float c) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector.fromArray(F, a, i).mul(c).intoArray(a, i);
        }
        for (; i < e; i++) a[i] *= c;
    }

    /** Sum of squares over [s, e), accumulated in double. */
    static double sumSquares(float[] a, int s, int e) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            acc = addSquares(acc, FloatVector.fromArray(F, a, i));
        }
        double sum = sumLanes(acc);
        for (; i < e; i++) sum += (double) a[i] * a[i];
        return sum;
    }

    /** True when no element of [s, e) is NaN or infinite. */
    static boolean allFinite(float[] a, int s, int e) {
        // x - x is 0 for finite x and NaN otherwise; NaN sticks in the accumulator.
        FloatVector acc = FloatVector.zero(F);
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector x = FloatVector.fromArray(F, a, i);
            acc = acc.add(x.sub(x));
        }
        if (acc.test(VectorOperators.IS_NAN).anyTrue()) return false;
        for (; i < e; i++) if (!Float.isFinite(a[i])) return false;
        return true;
    }

    private static DoubleVector addSquares(DoubleVector acc, FloatVector x) {
        DoubleVector lo = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
        DoubleVector hi = (DoubleVector) x.convertShape(VectorOperators.F2D, D, 1);
        return acc.add(lo.mul(lo)).add(hi.mul(hi));
    }

    /** Lane sum in lane order: reduceLanes leaves the order unspecified, which would break determinism. */
    private static double sumLanes(DoubleVector v) {
        double[] lanes = v.toArray();
        double s = 0;
        for (double x : lanes) s += x;
        return s;
    }
}
