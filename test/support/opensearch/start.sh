#!/usr/bin/env bash
# Build (if needed) and start a single-node OpenSearch 2.19.6 in one JVM.
# Prints "OPENSEARCH_READY http://127.0.0.1:<port>" on stdout when ready; logs go to stderr.
# Args are forwarded to shop.opensearch.Launcher:
#   [--http-port N] [--transport-port N] [--home DIR] [--no-stdin-watch] [-Ekey=value ...]
# `start.sh --build-only` just builds (if needed) and exits.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$DIR/target"
JAR="$TARGET/opensearch-launcher-1.0.0.jar"
CP_FILE="$TARGET/classpath.txt"
STAMP="$TARGET/.build-ok"

needs_build() {
  [[ -f "$STAMP" && -f "$JAR" && -f "$CP_FILE" ]] || return 0
  # sources or pom changed since the last build
  [[ -z "$(find "$DIR/pom.xml" "$DIR/src" -newer "$STAMP" -print -quit)" ]] || return 0
  # every dependency jar still present (e.g. ~/.m2 was wiped)
  local IFS=':' jar
  for jar in $(cat "$CP_FILE"); do [[ -f "$jar" ]] || return 0; done
  return 1
}

if needs_build; then
  echo "[opensearch] building launcher (mvn package)..." >&2
  # All maven output goes to stderr (stdout is reserved for the ready line); strip its stray ANSI codes.
  mvn -q -B -f "$DIR/pom.xml" package 2>&1 | sed -u $'s/\x1b\\[[0-9;]*m//g' >&2
  touch "$STAMP"
fi

if [[ "${1:-}" == "--build-only" ]]; then
  exit 0
fi

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
HEAP="${OPENSEARCH_HEAP:-512m}"
LOG_LEVEL="${OPENSEARCH_LOG_LEVEL:-warn}"
# Serial GC suits the small test heap; a collector named in OPENSEARCH_JAVA_OPTS (-XX:+Use…GC) replaces it.
GC="-XX:+UseSerialGC"
[[ "${OPENSEARCH_JAVA_OPTS:-}" =~ -XX:\+Use[A-Za-z0-9]+GC ]] && GC=""

# shellcheck disable=SC2086
exec "$JAVA" \
  -Xms"$HEAP" -Xmx"$HEAP" \
  $GC \
  -XX:-OmitStackTraceInFastThrow \
  -Xss1m \
  -Djava.awt.headless=true \
  -Dfile.encoding=UTF-8 \
  -Djna.nosys=true \
  -Dio.netty.noUnsafe=true \
  -Dio.netty.noKeySetOptimization=true \
  -Dio.netty.recycler.maxCapacityPerThread=0 \
  -Dio.netty.allocator.numDirectArenas=0 \
  -Dlog4j.shutdownHookEnabled=false \
  -Dlog4j2.disable.jmx=true \
  -Dshop.opensearch.log.level="$LOG_LEVEL" \
  ${OPENSEARCH_JAVA_OPTS:-} \
  -cp "$JAR:$(cat "$CP_FILE")" \
  shop.opensearch.Launcher "$@"
