package org.mambavision.spark.train;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.SparkSession;
import org.mambavision.engine.Tensor;
import org.mambavision.models.ModelRegistry;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * The time of one training step's gradient all-reduce: {@code workers} barrier tasks join a {@link RingAllReduce} as
 * {@code spark train} does and sum a buffer the size of a model's trainable parameters, {@code steps} times.
 */
public final class AllReduceBench {
    /** Per model: values summed, the median and fastest seconds per all-reduce over the steps (rank 0's clock). */
    public record Result(String model, long values, int workers, double medianSeconds, double minSeconds) implements Serializable {
        /** Bytes each process sends (and receives) per all-reduce: 2 (W - 1) / W of the buffer. */
        public double bytesSentPerProcess() {
            return 2.0 * (workers - 1) / workers * values * 4;
        }
    }

    private AllReduceBench() {}

    public static List<Result> run(SparkSession spark, int workers, List<String> models, int steps, Duration timeout) {
        SparkTraining.checkSlots(spark, workers);
        long[] sizes = new long[models.size()];
        for (int i = 0; i < sizes.length; i++) sizes[i] = trainableValues(models.get(i)); // on the driver: a bad name fails here
        JavaRDD<Integer> ranks = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(IntStream.range(0, workers).boxed().toList(), workers);
        ClassTag<Result> tag = ClassTag$.MODULE$.apply(Result.class);
        RDD<Result> out = ranks.rdd().barrier().mapPartitions(new Task(models, sizes, steps, timeout, new SecureRandom().nextLong()), false, tag);
        return JavaRDD.fromRDD(out, tag).collect();
    }

    /** The number of values in a model's parameters at its default options (1000 classes). */
    static long trainableValues(String model) {
        long n = 0;
        for (Tensor p : ModelRegistry.create(model).namedParameters().values()) n += p.numel();
        return n;
    }

    private static final class Task extends AbstractFunction1<Iterator<Integer>, Iterator<Result>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final List<String> models;
        private final long[] sizes;
        private final int steps;
        private final Duration timeout;
        private final long token;

        Task(List<String> models, long[] sizes, int steps, Duration timeout, long token) {
            this.models = List.copyOf(models);
            this.sizes = sizes;
            this.steps = steps;
            this.timeout = timeout;
            this.token = token;
        }

        @Override
        public Iterator<Result> apply(Iterator<Integer> partition) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            List<Result> results = new ArrayList<>();
            try (RingAllReduce ring = joinRingFor(ctx)) {
                for (int m = 0; m < models.size(); m++) {
                    float[] buffer = new float[Math.toIntExact(sizes[m])];
                    Arrays.fill(buffer, 1e-3f * (ring.rank() + 1));
                    ring.allReduceSum(buffer); // warm-up: connections, JIT
                    double[] seconds = new double[steps];
                    for (int s = 0; s < steps; s++) {
                        long t0 = System.nanoTime();
                        ring.allReduceSum(buffer);
                        seconds[s] = (System.nanoTime() - t0) * 1e-9;
                    }
                    Arrays.sort(seconds);
                    if (ring.rank() == 0) results.add(new Result(models.get(m), sizes[m], ring.size(), seconds[steps / 2], seconds[0]));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return CollectionConverters.asScala(results.iterator());
        }

        private RingAllReduce joinRingFor(BarrierTaskContext ctx) throws IOException {
            return SparkTraining.joinRing(ctx, token, timeout);
        }
    }
}
