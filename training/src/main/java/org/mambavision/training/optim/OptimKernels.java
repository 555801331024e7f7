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
     * torch.optim.SGD with momentum, one element: d = g + wd p; buf = bufMul buf + dMul d; p -= lr (outD d + outBuf buf).
     * The caller picks the coefficients: first step bufMul 0, dMul 1 (buf = d), later bufMul momentum,
     * dMul 1 - dampening; nesterov outD 1, outBuf momentum, else outD 0, outBuf 1. Multiplying by 0 and 1
     * instead of branching keeps vectors out of phis (which would box them); the results are the same
     * for finite values.
     */
    static void sgdMomentum(float[] p, float[] g, float[] buf, int s, int e, float lr, float wd, float bufMul, float dMul,
                            float outD, float outBuf) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            FloatVector d = FloatVector.fromArray(F, g, i).add(pv.mul(wd));
            FloatVector b = FloatVector.fromArray(F, buf, i).mul(bufMul).add(d.mul(dMul));
            b.intoArray(buf, i);
            pv.sub(d.mul(outD).add(b.mul(outBuf)).mul(lr)).intoArray(p, i);
        }
        for (; i < e; i++) {
            float pi = p[i], d = g[i] + pi * wd;
            float b = buf[i] * bufMul + d * dMul;
            buf[i] = b;
            p[i] = pi - (d * outD + b * outBuf) * lr;
        }
    }

    /** torch.optim.SGD without momentum, one element: p -= lr (g + wd p). */
    static void sgdPlain(float[] p, float[] g, int s, int e, float lr, float wd) {
        int i = s;
        for (int upper = s + F.loopBound(e - s); i < upper; i += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            pv.sub(FloatVector.fromArray(F, g, i).add(pv.mul(wd)).mul(lr)).intoArray(p, i);
        }
        for (; i < e; i++) p[i] = p[i] - (g[i] + p[i] * wd) * lr;
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
            FloatVector gv = FloatVector.fromArray(F, g, i).div(gradDiv); // gradDiv is 1 when not clipping: exact
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
            float gi = g[i] / gradDiv;
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
        // No branch on wd: u + 0*p == u for finite p, and a vector phi would box.
        return m.div(bc1).div(v.sqrt().div(bc2Sqrt).add(eps)).add(p.mul(wd));
    }

    private static float lambUpdate(float p, float m, float v, float bc1, float bc2Sqrt, float eps, float wd) {
        return m / bc1 / ((float) Math.sqrt(v) / bc2Sqrt + eps) + p * wd;
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
