package org.mambavision.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.mambavision.cli.UserError;
import org.mambavision.spark.ml.MambaVisionClassifier;
import org.mambavision.spark.ml.PredictorCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify every image of a folder (searched recursively for jpg, jpeg, png, bmp) or a glob, spread over Spark's executors.",
                "Writes one row per image: path, label, index, probability, top (index/label/probability of the best --top), error "
                        + "(null, or why the image could not be read; its other columns are then null), and with --features the pooled features."},
        footer = {"", "Exit status: 0 every image classified; 1 some images could not be read (rows with an error); 2 bad arguments or weights."})
public final class SparkPredictCommand implements Callable<Integer> {
    /** Extensions a folder is searched for, either case. */
    static final String IMAGE_FILES = "*.{jpg,jpeg,png,bmp,JPG,JPEG,PNG,BMP}";

    @Mixin
    SparkOptions sparkOptions;

    @Option(names = "--model", description = "Model name (required for official weights; our checkpoints and converted files name their model).")
    String model;

    @Option(names = "--weights", required = true,
            description = "Weights file: a path every executor can read, or the file name of one shipped with spark-submit --files.")
    String weights;

    @Option(names = "--input", required = true, paramLabel = "DIR_OR_GLOB",
            description = "A folder (searched recursively) or a quoted glob ('imgs/*.jpg'); any Hadoop file system path (hdfs://, s3a://, file:).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "OUT", description = "Output folder (Spark writes one part file per partition).")
    String output;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet, json or csv (csv: top and features as JSON text). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--top", defaultValue = "5", description = "Classes in the top column (default ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--features", description = "Add the pooled features (the vector that feeds the classifier head) as a features column.")
    boolean features;

    @Option(names = "--batch-size", defaultValue = "16", description = "Images per forward pass in each task (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--kernel-threads", defaultValue = "0",
            description = "Kernel threads per executor JVM (default 0: mv.threads, else all cores; with several task slots per executor, their tasks share them).")
    int kernelThreads;

    @Option(names = "--partitions", defaultValue = "0", description = "Repartition the files into N partitions (default 0: as Spark splits them).")
    int partitions;

    @Option(names = "--max-image-pixels", defaultValue = "89478485", description = "Refuse images declaring more pixels, before decoding (default ${DEFAULT-VALUE}).")
    long maxImagePixels;

    @Option(names = "--overwrite", description = "Replace OUT if it exists (default: an error).")
    boolean overwrite;

    @Override
    public Integer call() {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!List.of("parquet", "json", "csv").contains(fmt)) throw new UserError("--format " + format + ": expected parquet, json or csv");
        if (top < 1) throw new UserError("--top must be at least 1, got " + top);
        if (batchSize < 1) throw new UserError("--batch-size must be at least 1, got " + batchSize);
        if (maxImagePixels < 1) throw new UserError("--max-image-pixels must be at least 1, got " + maxImagePixels);
        if (!overwrite && isLocal(output) && Files.exists(Path.of(output))) {
            throw new UserError("--output " + output + " exists; remove it or pass --overwrite");
        }
        SparkSession spark = sparkOptions.session("mambavision spark predict");
        // read the weights once on the driver: a bad file or model name is one error before any task starts (in
        // local mode the executors then share this copy)
        PredictorCache.get(model, weights, maxImagePixels, kernelThreads);
        long t0 = System.nanoTime();
        Dataset<Row> files = readImages(spark);
        if (partitions > 0) files = files.repartition(partitions);
        MambaVisionClassifier classifier = new MambaVisionClassifier().setInputCol("content").setModelName(model).setWeights(weights)
                .setTopK(top).setBatchSize(batchSize).setKernelThreads(kernelThreads).setMaxImagePixels(maxImagePixels)
                .setFeaturesCol(features ? "features" : "");
        Dataset<Row> out = classifier.transform(files);
        List<Column> cols = new ArrayList<>(List.of(col("path"), col("label"), col("index"), col("probability"),
                fmt.equals("csv") ? to_json(col("top")).as("top") : col("top"), col("error")));
        if (features) {
            // vector_to_array refuses nulls (the rows with an error)
            Column f = when(col("features").isNotNull(), org.apache.spark.ml.functions.vector_to_array(col("features"), "float32"));
            cols.add((fmt.equals("csv") ? to_json(f) : f).as("features"));
        }
        Dataset<Row> result = out.select(cols.toArray(new Column[0])).persist(StorageLevel.MEMORY_AND_DISK());
        var writer = result.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).format(fmt);
        if (fmt.equals("csv")) writer = writer.option("header", "true");
        writer.save(output);
        double seconds = (System.nanoTime() - t0) * 1e-9;
        long images = result.count();
        List<Row> errors = result.filter(col("error").isNotNull()).select("error").limit(20).collectAsList();
        long errorCount = errors.isEmpty() ? 0 : result.filter(col("error").isNotNull()).count();
        result.unpersist();
        for (Row e : errors) System.err.println("error: " + e.getString(0));
        if (errorCount > errors.size()) System.err.println("... and " + (errorCount - errors.size()) + " more (see the error column)");
        System.out.printf(Locale.ROOT, "%d image(s) classified, %d could not be read; results in %s (%s); %.1f s, %.1f images/s "
                + "(listing, reading, decoding, classifying and writing)%n", images - errorCount, errorCount, output, fmt, seconds, images / seconds);
        return errorCount > 0 ? 1 : 0;
    }

    /** binaryFile rows (path, modificationTime, length, content) of the input's image files; an error when there are none. */
    private Dataset<Row> readImages(SparkSession spark) {
        boolean glob = input.contains("*") || input.contains("?") || input.contains("[") || input.contains("{");
        var reader = spark.read().format("binaryFile");
        if (!glob) reader = reader.option("recursiveFileLookup", "true").option("pathGlobFilter", IMAGE_FILES);
        Dataset<Row> files;
        try {
            files = reader.load(input);
        } catch (Exception e) { // AnalysisException (checked in Java terms): the path does not exist
            throw new UserError("--input " + input + ": " + firstLine(e.getMessage()));
        }
        if (files.isEmpty()) throw new UserError("--input " + input + ": no image files (" + (glob ? "the glob matches none" : IMAGE_FILES + ", recursively") + ")");
        return files;
    }

    private static String firstLine(String s) {
        return s == null ? "cannot be read" : s.lines().findFirst().orElse(s);
    }

    private static boolean isLocal(String path) {
        return !path.contains("://") && !path.startsWith("file:");
    }
}
