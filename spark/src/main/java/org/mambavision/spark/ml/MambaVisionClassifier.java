package org.mambavision.spark.ml;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.mambavision.inference.Predictor;

/**
 * Classifies an image column: adds {@code label} (the top class's name), {@code index}, {@code probability}, {@code top}
 * (the {@code topK} best as index/label/probability structs) and {@code error} (null, or why the row's image could not
 * be read, when the other outputs are null), and with {@code featuresCol} set the pooled features from the same forward pass.
 * The same preprocessing, model and softmax as {@link Predictor}.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("image").load("photos/");
 * Dataset<Row> labelled = new MambaVisionClassifier().setModelName("mambavision_t").setWeights("mambavision_t.pth.tar")
 *         .setTopK(5).transform(images);
 * }</pre>
 */
public final class MambaVisionClassifier extends MambaVisionTransformer<MambaVisionClassifier> {
    private static final long serialVersionUID = 1L;
    public static final StructType TOP_ENTRY = DataTypes.createStructType(List.of(
            DataTypes.createStructField("index", DataTypes.IntegerType, false),
            DataTypes.createStructField("label", DataTypes.StringType, false),
            DataTypes.createStructField("probability", DataTypes.DoubleType, false)));

    private final IntParam topK;
    private final Param<String> featuresCol;

    public MambaVisionClassifier(String uid) {
        super(uid);
        topK = new IntParam(this, "topK", "number of classes in the top column", ParamValidators.gtEq(1));
        featuresCol = new Param<>(this, "featuresCol",
                "when not empty, also the pooled features (an ML vector) in this column, from the same forward pass");
        setDefault(topK, 5);
        setDefault(featuresCol, "");
    }

    public MambaVisionClassifier() {
        this(Identifiable.randomUID("mambaVisionClassifier"));
    }

    public IntParam topK() { return topK; }

    public MambaVisionClassifier setTopK(int k) {
        set(topK, k);
        return this;
    }

    public int getTopK() {
        return (Integer) getOrDefault(topK);
    }

    public Param<String> featuresCol() { return featuresCol; }

    public MambaVisionClassifier setFeaturesCol(String column) {
        set(featuresCol, column == null ? "" : column);
        return this;
    }

    public String getFeaturesCol() {
        return getOrDefault(featuresCol);
    }

    @Override
    protected List<StructField> outputFields() {
        List<StructField> f = new ArrayList<>(List.of(DataTypes.createStructField("label", DataTypes.StringType, true),
                DataTypes.createStructField("index", DataTypes.IntegerType, true),
                DataTypes.createStructField("probability", DataTypes.DoubleType, true),
                DataTypes.createStructField("top", DataTypes.createArrayType(TOP_ENTRY, false), true)));
        if (!getFeaturesCol().isEmpty()) f.add(DataTypes.createStructField(getFeaturesCol(), SQLDataTypes.VectorType(), true));
        return f;
    }

    @Override
    protected BatchOutput batchOutput() {
        int k = getTopK();
        boolean withFeatures = !getFeaturesCol().isEmpty();
        return (predictor, batch) -> {
            Predictor.Classified c = withFeatures ? predictor.classifyWithFeatures(batch, k) : null;
            List<List<Predictor.Prediction>> all = c != null ? c.top() : predictor.classifyBatch(batch, k);
            org.apache.spark.ml.linalg.Vector[] features = c != null ? MambaVisionFeaturizer.vectors(c.features().pooled(), all.size()) : null;
            Object[][] out = new Object[all.size()][];
            for (int i = 0; i < out.length; i++) {
                List<Predictor.Prediction> top = all.get(i);
                List<Object> entries = new ArrayList<>(top.size());
                for (Predictor.Prediction p : top) entries.add(RowFactory.create(p.index(), p.label(), (double) p.probability()));
                Predictor.Prediction best = top.get(0);
                Object topSeq = scala.jdk.javaapi.CollectionConverters.asScala(entries).toSeq();
                out[i] = features == null ? new Object[] {best.label(), best.index(), (double) best.probability(), topSeq}
                        : new Object[] {best.label(), best.index(), (double) best.probability(), topSeq, features[i]};
            }
            return out;
        };
    }

    public static MLReader<MambaVisionClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static MambaVisionClassifier load(String path) {
        return read().load(path);
    }
}
