package org.mambavision.spark.ml;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.mambavision.engine.Tensor;
import org.mambavision.inference.Predictor;
import org.mambavision.inference.image.Images;

/**
 * What the classifier and the featurizer share: the parameters (input column, model, weights, batch size, kernel
 * threads, pixel limit), image reading, batching and the {@code error} column. Every input row gives one output row
 * with the input's columns and the outputs; a row whose image cannot be read gets null outputs and its reason in
 * {@code errorCol} (default {@code error}), and the job goes on.
 *
 * @param <T> the concrete transformer, so that setters chain
 */
public abstract class MambaVisionTransformer<T extends MambaVisionTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol, modelName, weights, errorCol;
    private final IntParam batchSize, kernelThreads;
    private final LongParam maxImagePixels;

    protected MambaVisionTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "image column: Spark's image struct (BGR) or encoded image bytes (binaryFile's content)");
        modelName = new Param<>(this, "modelName", "model name; empty when the weights file names it (our checkpoints, converted files)");
        weights = new Param<>(this, "weights", "weights file: a path every executor can read, or the name of a file shipped with --files");
        errorCol = new Param<>(this, "errorCol", "output column: null, or why the row's image could not be read (the other outputs are then null)");
        batchSize = new IntParam(this, "batchSize", "images per forward pass", ParamValidators.gtEq(1));
        kernelThreads = new IntParam(this, "kernelThreads",
                "kernel threads per executor JVM, fixed when the engine first runs there; 0: the engine's default (mv.threads or all cores)",
                ParamValidators.gtEq(0));
        maxImagePixels = new LongParam(this, "maxImagePixels", "images with more pixels are refused (error column) before decoding",
                ParamValidators.gtEq(1));
        setDefault(inputCol, "image");
        setDefault(modelName, "");
        setDefault(errorCol, "error");
        setDefault(batchSize, 16);
        setDefault(kernelThreads, 0);
        setDefault(maxImagePixels, Images.DEFAULT_MAX_PIXELS);
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    public Param<String> inputCol() { return inputCol; }
    public Param<String> modelName() { return modelName; }
    public Param<String> weights() { return weights; }
    public Param<String> errorCol() { return errorCol; }
    public IntParam batchSize() { return batchSize; }
    public IntParam kernelThreads() { return kernelThreads; }
    public LongParam maxImagePixels() { return maxImagePixels; }

    public T setInputCol(String v) { set(inputCol, v); return self(); }
    public T setModelName(String v) { set(modelName, v == null ? "" : v); return self(); }
    public T setWeights(String v) { set(weights, v); return self(); }
    public T setErrorCol(String v) { set(errorCol, v); return self(); }
    public T setBatchSize(int v) { set(batchSize, v); return self(); }
    public T setKernelThreads(int v) { set(kernelThreads, v); return self(); }
    public T setMaxImagePixels(long v) { set(maxImagePixels, v); return self(); }

    public String getInputCol() { return getOrDefault(inputCol); }
    public String getModelName() { return getOrDefault(modelName); }
    public String getWeights() { return getOrDefault(weights); }
    public String getErrorCol() { return getOrDefault(errorCol); }
    public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
    public int getKernelThreads() { return (Integer) getOrDefault(kernelThreads); }
    public long getMaxImagePixels() { return (Long) getOrDefault(maxImagePixels); }

    /** The columns this transformer adds before {@code error}. */
    protected abstract List<StructField> outputFields();

    /** Computes the outputs of a batch; serialized to the executors. */
    protected abstract BatchOutput batchOutput();

    /** The outputs of a preprocessed batch: row i holds the values of {@link #outputFields()} for image i. */
    protected interface BatchOutput extends Serializable {
        Object[][] compute(Predictor predictor, Tensor batch);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ImageRows.kindOf(schema, getInputCol());
        if (!isDefined(weights) || getWeights() == null || getWeights().isBlank()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": weights is not set (setWeights)");
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        List<StructField> added = new ArrayList<>(outputFields());
        added.add(DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
        for (StructField f : added) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column '" + f.name() + "', which " + getClass().getSimpleName()
                        + " writes; drop or rename it first");
            }
            fields.add(f);
        }
        return DataTypes.createStructType(fields);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema(), out = transformSchema(in);
        Job job = new Job(ImageRows.of(in, getInputCol(), getMaxImagePixels()), getModelName().isEmpty() ? null : getModelName(), getWeights(),
                getBatchSize(), getKernelThreads(), getMaxImagePixels(), in.size(), outputFields().size(), batchOutput());
        return dataset.toDF().mapPartitions(job, Encoders.row(out));
    }

    @Override
    public Transformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** One partition's work, serialized to the executors: rows in, rows with the outputs out, a batch at a time. */
    private record Job(ImageRows images, String model, String weights, int batchSize, int kernelThreads, long maxPixels, int inputWidth,
                       int outputWidth, BatchOutput output) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                private final java.util.ArrayDeque<Row> ready = new java.util.ArrayDeque<>();

                @Override
                public boolean hasNext() {
                    if (ready.isEmpty() && rows.hasNext()) nextBatch();
                    return !ready.isEmpty();
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return ready.poll();
                }

                private void nextBatch() {
                    Predictor predictor = PredictorCache.get(model, weights, maxPixels, kernelThreads);
                    List<Row> batch = new ArrayList<>();
                    while (batch.size() < batchSize && rows.hasNext()) batch.add(rows.next());
                    String[] errors = new String[batch.size()];
                    List<float[]> inputs = new ArrayList<>();
                    for (int i = 0; i < batch.size(); i++) {
                        try {
                            BufferedImage img = images.read(batch.get(i));
                            inputs.add(predictor.preprocess(img).data);
                        } catch (java.io.IOException | RuntimeException e) {
                            errors[i] = e.getMessage() != null && e instanceof java.io.IOException ? e.getMessage()
                                    : images.name(batch.get(i)) + ": " + e;
                        }
                    }
                    Object[][] results = inputs.isEmpty() ? new Object[0][] : output.compute(predictor, stack(predictor, inputs));
                    for (int i = 0, k = 0; i < batch.size(); i++) {
                        Object[] values = new Object[inputWidth + outputWidth + 1];
                        Row r = batch.get(i);
                        for (int c = 0; c < inputWidth; c++) values[c] = r.get(c);
                        if (errors[i] == null) System.arraycopy(results[k++], 0, values, inputWidth, outputWidth);
                        values[inputWidth + outputWidth] = errors[i];
                        ready.add(RowFactory.create(values));
                    }
                }
            };
        }

        private static Tensor stack(Predictor predictor, List<float[]> inputs) {
            int c = predictor.preprocessing().channels(), s = predictor.preprocessing().size(), per = c * s * s;
            float[] data = new float[inputs.size() * per];
            for (int i = 0; i < inputs.size(); i++) System.arraycopy(inputs.get(i), 0, data, i * per, per);
            return Tensor.of(data, inputs.size(), c, s, s);
        }
    }
}
