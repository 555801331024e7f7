package org.mambavision.spark.ml;

import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.mambavision.engine.Tensor;
import org.mambavision.models.Features;

/**
 * Embeds an image column: adds {@code features}, an ML vector (the pooled features that feed the classifier head, or
 * with {@code stage} 0-3 that stage's feature map flattened in C, H, W order), and {@code error}. The vectors feed
 * Spark ML estimators directly (logistic regression on top of a frozen backbone, k-means, nearest neighbours).
 */
public final class MambaVisionFeaturizer extends MambaVisionTransformer<MambaVisionFeaturizer> {
    private static final long serialVersionUID = 1L;
    public static final String FEATURES_COL = "features";

    private final IntParam stage;

    public MambaVisionFeaturizer(String uid) {
        super(uid);
        stage = new IntParam(this, "stage", "-1: pooled features; 0-3: that stage's feature map, flattened", ParamValidators.inRange(-1, 3));
        setDefault(stage, -1);
    }

    public MambaVisionFeaturizer() {
        this(Identifiable.randomUID("mambaVisionFeaturizer"));
    }

    public IntParam stage() { return stage; }

    public MambaVisionFeaturizer setStage(int s) {
        set(stage, s);
        return this;
    }

    public int getStage() {
        return (Integer) getOrDefault(stage);
    }

    @Override
    protected List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(FEATURES_COL, SQLDataTypes.VectorType(), true));
    }

    @Override
    protected BatchOutput batchOutput() {
        int s = getStage();
        return (predictor, batch) -> {
            Features f = predictor.features(batch);
            Vector[] v = vectors(s < 0 ? f.pooled() : f.stages().get(s), batch.dim(0));
            Object[][] out = new Object[v.length][];
            for (int i = 0; i < v.length; i++) out[i] = new Object[] {v[i]};
            return out;
        };
    }

    /** Row i of an (n, ...) tensor as an ML vector, for each image i. */
    static Vector[] vectors(Tensor t, int n) {
        int per = t.numel() / n;
        Vector[] out = new Vector[n];
        for (int i = 0; i < n; i++) {
            double[] v = new double[per];
            for (int j = 0; j < per; j++) v[j] = t.data[i * per + j];
            out[i] = Vectors.dense(v);
        }
        return out;
    }

    public static MLReader<MambaVisionFeaturizer> read() {
        return new DefaultParamsReader<>();
    }

    public static MambaVisionFeaturizer load(String path) {
        return read().load(path);
    }
}
