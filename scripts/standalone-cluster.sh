#!/usr/bin/env bash
# A Spark standalone cluster on this machine: a master and two workers (one core each) on 127.0.0.1, started from
# the Maven jars (no Spark download), then `spark predict` and `spark train` across them, so that the work really
# runs in separate executor JVMs; the cluster is stopped at the end, also on failure.
#
#   scripts/standalone-cluster.sh [WORK_DIR]      (default: a temporary folder; logs and outputs are left there)
#
# Env: MV_CLUSTER_MODEL (default flat_tiny) is the model of the predict run, MV_CLUSTER_IMAGES (default 64) its images,
# MV_CLUSTER_EXECUTORS (default "2") the executor counts to predict with, one run each ("1 2": the benchmark);
# MV_CLUSTER_ALLREDUCE=1 adds `spark bench-allreduce` across the two executors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
export JAVA_HOME
work=${1:-$(mktemp -d /tmp/mv-standalone.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
model=${MV_CLUSTER_MODEL:-flat_tiny}
images=${MV_CLUSTER_IMAGES:-64}
executors=${MV_CLUSTER_EXECUTORS:-2}

"$root/mambavision" spark --version >/dev/null # builds the jars when they are missing or stale
jar="$root/spark/target/mambavision-spark.jar"
# The workers build their executors' class path from SPARK_HOME/jars: a folder of links to the Maven jars.
export SPARK_HOME="$work/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
mkdir -p "$SPARK_HOME/jars"
tr ':' '\n' < "$root/spark/target/classpath.txt" | while read -r j; do ln -sf "$j" "$SPARK_HOME/jars/"; done
opts=$(grep -v '^#' "$root/spark/java-options" | tr '\n' ' ')
cp="$SPARK_HOME/jars/*"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "cluster stopped; logs in $work"
}
trap stop EXIT
port=$((17000 + RANDOM % 2000))
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $opts -Xmx512m -cp "$cp" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 0 \
  >"$work/master.log" 2>&1 &
pids+=($!)
master="spark://127.0.0.1:$port"
for i in 1 2; do
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" $opts -Xmx512m -cp "$cp" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 3g \
    --webui-port 0 --work-dir "$work/worker$i" "$master" >"$work/worker$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 1 60); do
  [ "$(grep -c 'Registering worker' "$work/master.log" 2>/dev/null || true)" -ge 2 ] && break
  sleep 1
done
grep -q 'Registering worker' "$work/master.log" || { echo "error: the workers did not register (see $work/*.log)" >&2; exit 1; }
echo "master $master with 2 workers of 1 core (logs in $work)"

# data: random-weight model, generated images
"$root/mambavision" train --set model="$model" --set epochs=1 --set dataset_size=32 --set batch_size=16 --set img_size=224 \
  --set visualize=false --set tensorboard=false --set save_dir="$work/weights" --set name=w >"$work/weights.log" 2>&1
weights=$(ls "$work"/weights/w-*/last.safetensors)
mkdir -p "$work/images"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "$jar" org.mambavision.spark.SampleImages "$work/images" "$images" 2>/dev/null

conf=(--conf spark.executor.memory=2g --conf spark.executor.cores=1 --conf spark.driver.host=127.0.0.1)
for n in $executors; do
  echo "== spark predict: $images images, $model, $n executor(s) of 1 core, batch 16"
  rm -rf "$work/predictions"
  "$root/mambavision" spark predict --master "$master" "${conf[@]}" --conf spark.cores.max="$n" --weights "$weights" \
    --input "$work/images" --output "$work/predictions" --format json --partitions "$n" --kernel-threads 1 --batch-size 16
done
conf+=(--conf spark.cores.max=2)
echo "== spark train: flat_tiny, 2 barrier tasks"
"$root/mambavision" spark train --master "$master" "${conf[@]}" --workers 2 --kernel-threads 1 --set depth=2 --set img_size=32 \
  --set patch_size=8 --set dataset_size=256 --set batch_size=32 --set epochs=2 --set visualize=false --set save_dir="$work/runs"
if [ "${MV_CLUSTER_ALLREDUCE:-0}" = 1 ]; then
  echo "== spark bench-allreduce: 2 executors"
  "$root/mambavision" spark bench-allreduce --master "$master" "${conf[@]}" --workers 2 --steps 10
fi
