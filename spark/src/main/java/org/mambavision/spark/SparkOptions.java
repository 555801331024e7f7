package org.mambavision.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.mambavision.cli.UserError;
import picocli.CommandLine.Option;

/** The options every spark subcommand takes: where to run and Spark settings. */
public final class SparkOptions {
    @Option(names = "--master", description = "Spark master: local[N], local[N,F] (F attempts per task), spark://HOST:PORT, yarn, ... "
            + "(default: spark-submit's, else local[*]).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable), e.g. --conf spark.executor.memory=4g.")
    List<String> conf = new ArrayList<>();

    /**
     * The session: {@code --master} when given, else the master spark-submit set, else local mode on every core. Executors
     * started here get the Vector API module (for spark-submit, pass it in spark.executor.extraJavaOptions) and, on a
     * cluster, this application's jar.
     */
    SparkSession session(String appName) {
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        String m = master != null ? master : System.getProperty("spark.master");
        b.master(m != null ? m : "local[*]");
        if (System.getProperty("spark.executor.extraJavaOptions") == null) {
            b.config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m");
        }
        if (System.getProperty("spark.jars") == null && m != null && !m.startsWith("local")) {
            b.config("spark.jars", SparkOptions.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        }
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new UserError("--conf " + kv + ": expected KEY=VALUE");
            b.config(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        return b.getOrCreate();
    }
}
