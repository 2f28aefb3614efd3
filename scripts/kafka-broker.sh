#!/usr/bin/env bash
# A real Apache Kafka broker in the foreground, for trying a client or a tool against it by hand:
#
#   scripts/kafka-broker.sh [--partitions <n>] [--flush-every-message]
#
# One KRaft node (broker and controller), the release pinned in peers/kafka-broker/pom.xml, on free
# ports of 127.0.0.1 (printed), its log dir in a fresh temp dir; Ctrl-C stops it and removes the dir.
# --partitions is num.partitions for auto-created topics (default 1, Kafka's); --flush-every-message
# sets log.flush.interval.messages=1. The same broker `npm run bench -- --peer kafka` measures
# (bench/support/kafka-broker.ts). Needs java 17+ and, the first time, mvn.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$here/node_modules/.bin/tsx" "$here/bench/support/kafka-broker.ts" "$@"
