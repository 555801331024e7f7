package org.mambavision.spark;

import org.apache.spark.sql.SparkSession;

/** The tests' one Spark session: local mode, two task slots, up to 4 attempts per task (barrier stages retry). */
public final class LocalSpark {
    private LocalSpark() {}

    public static synchronized SparkSession session() {
        return SparkSession.builder().master("local[2,4]").appName("mambavision-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
    }
}
