package org.mambavision.engine.bench;

/** Runs {@link GemmBench} and prints its rows (not a unit test): java -cp classes:test-classes ...GemmBenchMain */
public final class GemmBenchMain {
    public static void main(String[] args) {
        GemmBench.rows(r -> System.out.println(r.toText()));
    }
}
