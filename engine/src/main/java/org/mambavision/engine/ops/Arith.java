package org.mambavision.engine.ops;

import java.util.Arrays;
import org.mambavision.engine.OpTrace;
import org.mambavision.engine.Parallel;
import org.mambavision.engine.Tape;
import org.mambavision.engine.Tensor;
import org.mambavision.engine.kernels.Broadcast;
import org.mambavision.engine.kernels.VecMath;

/**
 * add, sub, mul with numpy/PyTorch broadcasting (ranks up to 5), and scalar scale/shift.
 * The backward of a broadcast operand sums the upstream gradient over its broadcast dimensions.
 */
public final class Arith {
    private static final int GRAIN = 16384;

    private Arith() {}

    public static Tensor add(Tensor a, Tensor b) { return axpy("add", a, b, 1f); }

    public static Tensor sub(Tensor a, Tensor b) { return axpy("sub", a, b, -1f); }

    /** out = a + s * b (s = +-1). */
    private static Tensor axpy(String op, Tensor a, Tensor b, float s) {
        int[] shape = outShape(op, a, b);
        int[] as = a.shape(), bs = b.shape();
        Tensor out = Tensor.empty(shape);
        Broadcast.binary(Broadcast.Op.AXPY, s, a.data, as, b.data, bs, out.data, shape, false);
        OpTrace tr = OpTrace.active();
        if (tr != null) tr.op(out, s == 1f ? "Add" : "Sub", a, b);
        Tape.record(out, () -> {
            float[] g = out.grad;
            if (a.requiresGrad()) addGrad(a, g, shape, 1f);
            if (b.requiresGrad()) addGrad(b, g, shape, s);
        }, a, b);
        return out;
    }

    /** t.grad += s * reduce_to_t(g); a first gradient of t's own shape is assigned, not zero-filled and added. */
    static void addGrad(Tensor t, float[] g, int[] shape, float s) {
        if (Arrays.equals(t.shape(), shape) && t.allocateGradForOverwrite()) {
            float[] gt = t.grad;
            Parallel.forRange(g.length, GRAIN, (i0, i1) -> {
                System.arraycopy(g, i0, gt, i0, i1 - i0);
                if (s != 1f) VecMath.scaleInPlace(gt, i0, i1 - i0, s);
            });
        } else {
            Broadcast.reduceSum(g, shape, t.gradBuffer(), t.shape(), s);
        }
    }

    public static Tensor mul(Tensor a, Tensor b) {
        int[] shape = outShape("mul", a, b);
        int[] as = a.shape(), bs = b.shape();
        Tensor out = Tensor.empty(shape);
        Broadcast.binary(Broadcast.Op.MUL, 1f, a.data, as, b.data, bs, out.data, shape, false);
        OpTrace tr = OpTrace.active();
        if (tr != null) tr.op(out, "Mul", a, b);
        Tape.record(out, () -> {
            float[] g = out.grad;
            if (a.requiresGrad()) mulGrad(g, shape, b.data, bs, a.gradBuffer(), as);
            if (b.requiresGrad()) mulGrad(g, shape, a.data, as, b.gradBuffer(), bs);
        }, a, b);
        return out;
    }

    /** gSelf += reduce_to_selfShape(g * other). */
    private static void mulGrad(float[] g, int[] shape, float[] other, int[] otherShape, float[] gSelf, int[] selfShape) {
        if (Arrays.equals(Broadcast.align(selfShape, shape.length), shape)) {
            Broadcast.binary(Broadcast.Op.MUL, 1f, g, shape, other, otherShape, gSelf, shape, true);
        } else {
            float[] t = new float[g.length];
            Broadcast.binary(Broadcast.Op.MUL, 1f, g, shape, other, otherShape, t, shape, false);
            Broadcast.reduceSum(t, shape, gSelf, selfShape, 1f);
        }
    }

    private static int[] outShape(String op, Tensor a, Tensor b) {
        int[] s = Broadcast.broadcastShape(a.shape(), b.shape());
        if (s == null) {
            throw new IllegalArgumentException(op + ": shapes " + a.shapeString() + " and " + b.shapeString() + " do not broadcast");
        }
        if (s.length > Tensor.MAX_RANK) {
            throw new IllegalArgumentException(op + ": broadcast rank " + s.length + " > " + Tensor.MAX_RANK + " for " + a.shapeString() + " and " + b.shapeString());
        }
        return s;
    }

    /** x * s. */
    public static Tensor scale(Tensor x, float s) {
        Tensor out = Tensor.empty(x.shape());
        float[] xd = x.data, yd = out.data;
        Parallel.forRange(xd.length, GRAIN, (i0, i1) -> {
            System.arraycopy(xd, i0, yd, i0, i1 - i0);
            VecMath.scaleInPlace(yd, i0, i1 - i0, s);
        });
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.op(out, "Mul", x, tr.scalar(s));
        Tape.record(out, () -> {
            float[] g = out.grad, gx = x.gradBuffer();
            Parallel.forRange(g.length, GRAIN, (i0, i1) -> VecMath.axpy(i1 - i0, s, g, i0, gx, i0));
        }, x);
        return out;
    }

    /** x + s. */
    public static Tensor addScalar(Tensor x, float s) {
        Tensor out = Tensor.empty(x.shape());
        Broadcast.binary(Broadcast.Op.AXPY, 1f, x.data, x.shape(), new float[] {s}, new int[0], out.data, x.shape(), false);
        OpTrace tr = OpTrace.active();
        if (tr != null && tr.traced(x)) tr.op(out, "Add", x, tr.scalar(s));
        Tape.record(out, () -> {
            float[] g = out.grad, gx = x.gradBuffer();
            Parallel.forRange(g.length, GRAIN, (i0, i1) -> VecMath.addInto(i1 - i0, g, i0, gx, i0));
        }, x);
        return out;
    }
}
