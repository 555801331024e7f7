package org.mambavision.spark.train;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.SparkSession;
import org.mambavision.training.ProcessGroup;
import org.mambavision.training.Trainer;
import org.mambavision.training.config.ConfigLoader;
import org.mambavision.training.config.TrainConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Data-parallel training as one Spark barrier stage of {@code workers} tasks. Each task runs our {@link Trainer} on
 * its shard of every global batch; the tasks join a {@link RingAllReduce} (addresses exchanged with
 * {@link BarrierTaskContext#allGather}) that sums the gradients before every optimizer step; rank 0 writes the run
 * directory. When a task fails, Spark fails the whole stage and runs it again (up to {@code spark.stage.maxConsecutiveAttempts},
 * default 4), and every task of the new attempt resumes from the run's last checkpoint.
 */
public final class SparkTraining {
    private static final Logger LOG = LoggerFactory.getLogger(SparkTraining.class);

    private SparkTraining() {}

    /**
     * {@code timeout}: the longest wait for a peer (joining the ring, each exchange); {@code kernelThreads}: the engine's
     * threads per executor JVM (0: its default); {@code fault}: a failure to inject, for tests (null: none).
     */
    public record Options(int workers, Duration timeout, int kernelThreads, Fault fault) implements Serializable {
        public Options {
            if (workers < 1) throw new IllegalArgumentException("--workers must be at least 1, got " + workers);
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        }
    }

    /** Test hook: the task of {@code rank} throws in its all-reduce call number {@code call} (1-based), in the stage's first attempt only. */
    public record Fault(int rank, long call) implements Serializable {}

    /** What rank 0's trainer returned. */
    public record Summary(String runDir, double bestTop1, double finalTop1, double finalTop5, double finalValLoss, int epochsDone,
                          double seconds, double imagesPerSec, String stopMessage, int stageAttempt) implements Serializable {}

    /** Trains {@code cfg} over {@code options.workers()} barrier tasks in {@code runDir} (readable by every executor; rank 0 writes it). */
    public static Summary run(SparkSession spark, TrainConfig cfg, Path runDir, Options options) {
        checkSlots(spark, options.workers());
        JavaRDD<Integer> ranks = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(IntStream.range(0, options.workers()).boxed().toList(), options.workers());
        ClassTag<Summary> tag = ClassTag$.MODULE$.apply(Summary.class);
        Task task = new Task(ConfigLoader.toYaml(cfg), runDir.toAbsolutePath().toString(), options, new SecureRandom().nextLong());
        RDD<Summary> out = ranks.rdd().barrier().mapPartitions(task, false, tag);
        // Spark retries a failed barrier stage only when it is a shuffle map stage (a result stage may have committed
        // output), so the summaries go through a shuffle
        List<Summary> all = JavaRDD.fromRDD(out, tag).repartition(1).collect();
        return all.stream().filter(s -> s != null).findFirst().orElseThrow(() -> new IllegalStateException("rank 0 returned no result"));
    }

    /**
     * A barrier stage starts all its tasks at once: in local mode, an error when there are fewer task slots than
     * tasks (Spark would wait for slots that never come). A cluster's executors may still be starting, so Spark itself
     * waits there.
     */
    public static void checkSlots(SparkSession spark, int tasks) {
        if (spark.sparkContext().isLocal() && tasks > spark.sparkContext().defaultParallelism()) {
            throw new IllegalArgumentException(tasks + " barrier tasks need " + tasks + " task slots at once, but " + spark.sparkContext().master()
                    + " has " + spark.sparkContext().defaultParallelism() + "; use --master local[" + tasks + "] or fewer --workers");
        }
    }

    /**
     * Joins the barrier tasks of {@code ctx} into a ring: listens on this executor's host, exchanges the addresses with
     * allGather, connects within {@code timeout}. The stage attempt is part of the token, so a task left over from a
     * failed attempt cannot join the new ring.
     */
    static RingAllReduce joinRing(BarrierTaskContext ctx, long token, Duration timeout) throws IOException {
        int rank = ctx.partitionId();
        String host = hostOf(ctx.getTaskInfos()[rank].address());
        try (ServerSocket server = RingAllReduce.listen(host)) {
            String[] addresses = ctx.allGather(host + ":" + server.getLocalPort());
            List<InetSocketAddress> ring = new ArrayList<>();
            for (String a : addresses) ring.add(new InetSocketAddress(hostOf(a), Integer.parseInt(a.substring(a.lastIndexOf(':') + 1))));
            return RingAllReduce.connect(rank, ring, server, token ^ ctx.stageAttemptNumber(), timeout);
        }
    }

    private static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? address : address.substring(0, colon);
    }

    /** One barrier task: join the ring, train, return rank 0's summary. */
    private static final class Task extends AbstractFunction1<Iterator<Integer>, Iterator<Summary>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String configYaml, runDir;
        private final Options options;
        private final long token;

        Task(String configYaml, String runDir, Options options, long token) {
            this.configYaml = configYaml;
            this.runDir = runDir;
            this.options = options;
            this.token = token;
        }

        @Override
        public Iterator<Summary> apply(Iterator<Integer> partition) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId(), size = ctx.getTaskInfos().length, attempt = ctx.stageAttemptNumber();
            if (options.kernelThreads() > 0) org.mambavision.spark.ml.PredictorCache.KernelThreads.request(options.kernelThreads());
            try (RingAllReduce group = joinRing(ctx, token, options.timeout())) {
                ProcessGroup g = options.fault() != null && options.fault().rank() == rank && attempt == 0 ? failing(group, options.fault()) : group;
                TrainConfig cfg = ConfigLoader.loadString(configYaml, "spark train config");
                String prefix = "[rank " + rank + "/" + size + ", attempt " + attempt + "] ";
                Trainer.Result r = new Trainer(cfg, line -> {
                    if (rank == 0) LOG.info(prefix + line);
                    else LOG.debug(prefix + line);
                }, false).distributed(g, Path.of(runDir)).run();
                Summary s = rank != 0 ? null : new Summary(r.runDir().toString(), r.bestTop1(), r.finalTop1(), r.finalTop5(), r.finalValLoss(),
                        r.epochsDone(), r.seconds(), r.imagesPerSec(), r.stopReason() == null ? null : r.stopReason().message(), attempt);
                List<Summary> result = new ArrayList<>();
                result.add(s); // null on the other ranks
                return CollectionConverters.asScala(result.iterator());
            } catch (IOException e) {
                throw new UncheckedIOException("rank " + rank + " of " + size + ": " + e.getMessage(), e);
            }
        }

        private static ProcessGroup failing(RingAllReduce group, Fault fault) {
            return new ProcessGroup() {
                @Override
                public int rank() { return group.rank(); }

                @Override
                public int size() { return group.size(); }

                @Override
                public void allReduceSum(float[] buffer) throws IOException {
                    if (group.calls() + 1 == fault.call()) {
                        group.close();
                        throw new IllegalStateException("injected failure of rank " + fault.rank() + " at all-reduce " + fault.call());
                    }
                    group.allReduceSum(buffer);
                }
            };
        }
    }
}
