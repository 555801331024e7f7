# Sourced by ./mvnw and ./mambavision: picks a JDK 25+ so that no export is needed.
# Order: JAVA_HOME if it is 25 or newer, else the newest JDK 25+ under /usr/lib/jvm.
mv_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
mv_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(mv_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
  fi
  best=""; bestv=0
  # (no glob: ./mvnw runs with set -f)
  for d in $(ls /usr/lib/jvm 2>/dev/null | sed "s#^#/usr/lib/jvm/#"); do
    [ -x "$d/bin/javac" ] || continue
    v=$(mv_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ] && [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "error: MambaVision-JVM needs a JDK 25 or newer; none found in JAVA_HOME or /usr/lib/jvm. Install one (e.g. 'apt-get install temurin-25-jdk') or set JAVA_HOME." >&2
    exit 1
  fi
  JAVA_HOME=$best
  export JAVA_HOME
}
mv_find_jdk
