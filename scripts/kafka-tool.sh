#!/usr/bin/env bash
# Apache Kafka's own command-line tools, run from Maven Central jars instead of a Kafka download:
#
#   scripts/kafka-tool.sh <tool> [args…]     e.g. scripts/kafka-tool.sh topics --bootstrap-server 127.0.0.1:9092 --list
#   scripts/kafka-tool.sh classpath          resolve (download) the jars only, print the classpath file
#
# <tool> is the name of Kafka's bin/kafka-<tool>.sh: console-producer, console-consumer, topics,
# consumer-groups, get-offsets, producer-perf-test, consumer-perf-test (kafka-topics.sh and kafka-topics
# are accepted too). The arguments are the tool's own, unchanged. The versions are pinned in
# peers/kafka-tools/pom.xml.
#
# The first run asks Maven for the classpath (needs `mvn` and Maven Central; ~10 s) and keeps it in
# peers/kafka-tools/target/classpath.txt; later runs only start the JVM. Logging is Kafka's tools
# default (WARN and up, on stderr); set KAFKA_LOG4J_OPTS to use another log4j2 config, and
# KAFKA_OPTS / KAFKA_HEAP_OPTS for JVM options, as Kafka's scripts read them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peer="$here/peers/kafka-tools"
cache="$peer/target/classpath.txt"

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# The classpath, resolved again when pom.xml changed or a jar went missing from the local repository.
classpath() {
  if [ -s "$cache" ] && [ "$cache" -nt "$peer/pom.xml" ]; then
    local cp jar ok=1
    cp="$(cat "$cache")"
    IFS=: read -r -a jars <<<"$cp"
    for jar in "${jars[@]}"; do [ -f "$jar" ] || { ok=0; break; }; done
    if [ "$ok" = 1 ]; then
      printf '%s' "$cp"
      return
    fi
  fi
  command -v mvn >/dev/null 2>&1 || { echo "kafka-tool: mvn (Apache Maven) is needed to fetch Kafka's tools" >&2; exit 1; }
  mkdir -p "$peer/target"
  # A file of its own per run, moved into place whole, so two first runs at once do not read half a file.
  local tmp="$cache.$$"
  local log
  if ! log="$(cd "$peer" && mvn -q -B -Dstyle.color=never dependency:build-classpath -Dmdep.outputFile="$tmp" 2>&1)"; then
    rm -f "$tmp"
    printf 'kafka-tool: mvn could not resolve peers/kafka-tools/pom.xml:\n%s\n' "$log" >&2
    exit 1
  fi
  mv -f "$tmp" "$cache"
  cat "$cache"
}

[ $# -ge 1 ] || usage
tool="${1%.sh}"
tool="${tool#kafka-}"
shift

case "$tool" in
  console-producer) main=org.apache.kafka.tools.ConsoleProducer ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  producer-perf-test) main=org.apache.kafka.tools.ProducerPerformance perf=1 ;;
  consumer-perf-test) main=org.apache.kafka.tools.ConsumerPerformance perf=1 ;;
  classpath)
    classpath >/dev/null
    echo "$cache"
    exit 0
    ;;
  -h | --help | help) usage ;;
  *)
    echo "kafka-tool: unknown tool '$tool' (console-producer, console-consumer, topics, consumer-groups, get-offsets, producer-perf-test, consumer-perf-test)" >&2
    exit 2
    ;;
esac

cp="$(classpath)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Kafka's kafka-run-class.sh gives tools a 256 MB heap; C1 only and the serial collector, since a
# tool lives for seconds. The perf tests measure the client itself, so they get what Kafka's
# kafka-producer-perf-test.sh / kafka-consumer-perf-test.sh give them: a 512 MB heap and
# kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS (G1, full JIT). KAFKA_* options are word-split, as
# Kafka's own scripts do.
if [ "${perf:-0}" = 1 ]; then
  opts=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)
  heap=-Xmx512M
else
  opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
  heap=-Xmx256M
fi
if [ -n "${KAFKA_HEAP_OPTS:-}" ]; then read -r -a more <<<"$KAFKA_HEAP_OPTS"; opts+=("${more[@]}"); else opts+=("$heap"); fi
if [ -n "${KAFKA_LOG4J_OPTS:-}" ]; then
  read -r -a more <<<"$KAFKA_LOG4J_OPTS"
  opts+=("${more[@]}")
else
  opts+=("-Dlog4j2.configurationFile=$peer/log4j2.properties")
fi
if [ -n "${KAFKA_OPTS:-}" ]; then read -r -a more <<<"$KAFKA_OPTS"; opts+=("${more[@]}"); fi
exec "$java" "${opts[@]}" -cp "$cp" "$main" "$@"
