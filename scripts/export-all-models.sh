#!/usr/bin/env bash
# Exports every model (or those named) to ONNX at its default size with random weights, runs each in ONNX Runtime and
# prints the relative error of its logits against our engine. Large models need memory: L3 holds ~3 GB of weights in the
# JVM and again in ONNX Runtime (give the JVM heap with MV_HEAP, e.g. MV_HEAP=12g).
#   scripts/export-all-models.sh [OUT_DIR] [MODEL...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/mambavision" --version >/dev/null # builds the CLI jar when stale
. "$root/.mvn/find-jdk.sh"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -Xmx"${MV_HEAP:-12g}" \
  -cp "$root/cli/target/mambavision.jar" "$root/scripts/ExportAllModels.java" "${1:-/tmp/mambavision-onnx}" "${@:2}" 2>&1 \
  | grep -v -e 'WARNING: Using incubator modules' -e 'sun.misc.Unsafe' -e 'WARNING: Please consider reporting' -e 'WARNING: A terminally'
