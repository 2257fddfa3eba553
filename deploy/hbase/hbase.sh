#!/usr/bin/env bash
# Run a real Apache HBase (standalone: ZooKeeper + master + region server in one JVM) and its
# Thrift1 server (second JVM, what happybase speaks) from Maven Central jars.  See README.md.
#
#   hbase.sh resolve   resolve the jars (cached in ~/.m2) and write <run dir>/classpath.txt
#   hbase.sh start     fresh run dir, start both JVMs, wait for a real create/put/get/delete
#   hbase.sh stop      stop both JVMs by their recorded pids (TERM, then KILL)
#   hbase.sh status    exit 0 if both JVMs run, 1 if not
#   hbase.sh restart   stop + start
#   hbase.sh logs [N]  tail the last N (default 60) lines of both logs
#
# Environment:
#   HBASE_RUN_DIR        run directory, wiped on each start        (default /tmp/portal-hbase)
#   HBASE_PORT           Thrift port (default 9090); HBASE_THRIFT_BIND its address (default 127.0.0.1)
#   HBASE_ZK_PORT        ZooKeeper client port                     (default 2181)
#   HBASE_MASTER_PORT / HBASE_RS_PORT   master / region server RPC (default 16000 / 16020)
#   HBASE_START_TIMEOUT  seconds to wait for the round trip        (default 240)
#   HBASE_STOP_GRACE     seconds between TERM and KILL on stop     (default 10)
#   HBASE_MASTER_HEAP / HBASE_THRIFT_HEAP                          (default 4g / 512m)
#   PYTHON               interpreter with happybase                (default python3)
#   JAVA_HOME, MVN       java and maven to use                     (default: from PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
WAIT_READY="$SCRIPT_DIR/wait_ready.py"

RUN_DIR="$(realpath -m "${HBASE_RUN_DIR:-/tmp/portal-hbase}")"
HBASE_PORT="${HBASE_PORT:-9090}"
HBASE_THRIFT_BIND="${HBASE_THRIFT_BIND:-127.0.0.1}"  # 0.0.0.0 inside a container
HBASE_ZK_PORT="${HBASE_ZK_PORT:-2181}"
HBASE_MASTER_PORT="${HBASE_MASTER_PORT:-16000}"
HBASE_RS_PORT="${HBASE_RS_PORT:-16020}"
HBASE_START_TIMEOUT="${HBASE_START_TIMEOUT:-240}"
HBASE_STOP_GRACE="${HBASE_STOP_GRACE:-10}"
HBASE_MASTER_HEAP="${HBASE_MASTER_HEAP:-4g}"
HBASE_THRIFT_HEAP="${HBASE_THRIFT_HEAP:-512m}"
PYTHON="${PYTHON:-python3}"
MVN="${MVN:-mvn}"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

CLASSPATH_FILE="$RUN_DIR/classpath.txt"
CONF_DIR="$RUN_DIR/conf"
LOG_DIR="$RUN_DIR/logs"
MARKER="$RUN_DIR/.portal-hbase-run"
MASTER_PID_FILE="$RUN_DIR/master.pid"
THRIFT_PID_FILE="$RUN_DIR/thrift.pid"
MASTER_LOG="$LOG_DIR/hbase-master.log"
THRIFT_LOG="$LOG_DIR/hbase-thrift.log"

# What HBase's bin/hbase adds on JDK 11+, minus the two sun.net exports Hadoop fails on with JDK 17.
JDK17_FLAGS=(
  -Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true
  --add-modules jdk.unsupported
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.util.concurrent=ALL-UNNAMED
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports java.base/sun.net.dns=ALL-UNNAMED
  --add-exports java.base/sun.net.util=ALL-UNNAMED
)

say() { echo "[hbase.sh] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }
secs_since() { local s=$1 e; e=$(now_ms); awk -v d=$((e - s)) 'BEGIN { printf "%.1f", d / 1000 }'; }

# --- processes ---------------------------------------------------------------------------------

# pid from a pid file, printed only if that process is alive and really one of ours (pids recycle).
live_pid() {
  local f=$1 pid
  [[ -s "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo '?')" != Z ]] || return 1
  # our JVMs have "<run dir>/conf" on their command line
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF_DIR" || return 1
  echo "$pid"
}

stop_one() {
  local name=$1 f=$2 pid waited=0
  if ! pid=$(live_pid "$f"); then rm -f "$f"; return 0; fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( waited < HBASE_STOP_GRACE * 10 )); do
    sleep 0.1; waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within ${HBASE_STOP_GRACE}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tail_logs() {
  local n=${1:-60} f
  for f in "$MASTER_LOG" "$LOG_DIR/master.out" "$THRIFT_LOG" "$LOG_DIR/thrift.out"; do
    [[ -s "$f" ]] || continue
    echo "----- last $n lines of $f -----" >&2
    tail -n "$n" "$f" >&2
  done
}

# --- commands ----------------------------------------------------------------------------------

classpath_fresh() {
  [[ -s "$CLASSPATH_FILE" && "$CLASSPATH_FILE" -nt "$POM" ]] || return 1
  local jar
  # every jar must still be in the local repository (~/.m2 may have been cleaned)
  while IFS= read -r jar; do [[ -z "$jar" || -f "$jar" ]] || return 1; done < <(tr ':' '\n' <"$CLASSPATH_FILE")
}

cmd_resolve() {
  command -v "$MVN" >/dev/null || die "maven ($MVN) not found"
  mkdir -p "$RUN_DIR"
  touch "$MARKER"
  if classpath_fresh; then
    say "classpath up to date: $CLASSPATH_FILE"
    return 0
  fi
  say "resolving HBase jars with maven (first run downloads ~125 MB into ~/.m2) ..."
  local t0 tmp
  t0=$(now_ms)
  tmp="$CLASSPATH_FILE.tmp.$$"
  if ! "$MVN" -B -q -f "$POM" dependency:build-classpath -Dmdep.outputFile="$tmp" >"$RUN_DIR/resolve.log" 2>&1; then
    tail -n 40 "$RUN_DIR/resolve.log" >&2
    rm -f "$tmp"
    die "maven could not resolve the jars (full log: $RUN_DIR/resolve.log)"
  fi
  [[ -s "$tmp" ]] || die "maven wrote no classpath"
  mv -f "$tmp" "$CLASSPATH_FILE"
  say "resolved $(tr ':' '\n' <"$CLASSPATH_FILE" | grep -c .) jars in $(secs_since "$t0")s"
}

write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR/data" "$RUN_DIR/tmp" "$RUN_DIR/zookeeper"
  cat >"$CONF_DIR/hbase-site.xml" <<EOF
<?xml version="1.0"?>
<!-- written by hbase.sh start; the run directory is wiped on every start -->
<configuration>
  <property><name>hbase.cluster.distributed</name><value>false</value></property>
  <property><name>hbase.rootdir</name><value>file://$RUN_DIR/data</value></property>
  <property><name>hbase.tmp.dir</name><value>$RUN_DIR/tmp</value></property>
  <property><name>hbase.zookeeper.property.dataDir</name><value>$RUN_DIR/zookeeper</value></property>
  <property><name>hbase.zookeeper.quorum</name><value>127.0.0.1</value></property>
  <property><name>hbase.zookeeper.property.clientPort</name><value>$HBASE_ZK_PORT</value></property>
  <!-- standalone mode still binds the master and region server RPC ports: configurable so that
       a second instance (other run dir and ports) can run beside the first -->
  <property><name>hbase.master.port</name><value>$HBASE_MASTER_PORT</value></property>
  <property><name>hbase.regionserver.port</name><value>$HBASE_RS_PORT</value></property>
  <property><name>hbase.unsafe.stream.capability.enforce</name><value>false</value></property>
  <property><name>hbase.master.info.port</name><value>-1</value></property>
  <property><name>hbase.regionserver.info.port</name><value>-1</value></property>
  <property><name>hbase.thrift.info.port</name><value>-1</value></property>
  <property><name>hbase.regionserver.thrift.ipaddress</name><value>${HBASE_THRIFT_BIND}</value></property>
  <property><name>hbase.regionserver.thrift.port</name><value>$HBASE_PORT</value></property>
  <!-- One JVM holds master and region server: the defaults (block cache and memstores 40 % of
       the heap each) left too little for the rest under fast bulk writes (2g heap: out of
       memory while 100k alerts with cutouts were ingested by 8 writers) -->
  <property><name>hfile.block.cache.size</name><value>0.2</value></property>
  <property><name>hbase.regionserver.global.memstore.size</name><value>0.3</value></property>
  <!-- default 60 s: idle happybase connections would die with "TSocket read 0 bytes" -->
  <property><name>hbase.thrift.server.socket.read.timeout</name><value>86400000</value></property>
</configuration>
EOF
  cat >"$CONF_DIR/log4j2.properties" <<'EOF'
# written by hbase.sh start: one log file per JVM in ${sys:hbase.log.dir}
status = warn
dest = err
name = PortalHBase

appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:hbase.log.dir}/${sys:hbase.log.file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{ISO8601} %-5p [%t] %c{2}: %.1000m%n

rootLogger = INFO,FILE

logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = WARN
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.hbase.name = org.apache.hadoop.hbase
logger.hbase.level = INFO
# noisy and harmless in standalone mode
logger.nativecodeloader.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecodeloader.level = ERROR
logger.metricsconfig.name = org.apache.hadoop.metrics2.impl.MetricsConfig
logger.metricsconfig.level = ERROR
EOF
}

start_jvm() {  # name heap logfile main-class args...
  local name=$1 heap=$2 logfile=$3; shift 3
  # setsid: the JVM must not die with the shell (or its terminal) that started it
  setsid "$JAVA" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.net.preferIPv4Stack=true \
    "${JDK17_FLAGS[@]}" \
    -Dhbase.log.dir="$LOG_DIR" -Dhbase.log.file="$(basename "$logfile")" \
    -Dlog4j2.configurationFile="file:$CONF_DIR/log4j2.properties" \
    -Djava.io.tmpdir="$RUN_DIR/tmp" \
    -cp "$CONF_DIR:$(<"$CLASSPATH_FILE")" "$@" \
    </dev/null >"$LOG_DIR/$name.out" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

check_prereqs() {
  command -v "$JAVA" >/dev/null || die "java not found (install a JDK 17 or set JAVA_HOME)"
  command -v "$PYTHON" >/dev/null || die "python ($PYTHON) not found; set PYTHON"
  if ! "$PYTHON" -c 'import happybase' 2>/dev/null; then
    die "$PYTHON cannot import happybase; set PYTHON to an interpreter that has it (e.g. .venv/bin/python)"
  fi
  getent hosts localhost >/dev/null 2>&1 ||
    say "WARNING: 'localhost' does not resolve (add '127.0.0.1 localhost' to /etc/hosts): ZooKeeper may not start"
  [[ "$RUN_DIR" != / && "$RUN_DIR" != "$HOME" ]] || die "refusing HBASE_RUN_DIR=$RUN_DIR"
  if [[ -d "$RUN_DIR" && ! -e "$MARKER" ]] && [[ -n "$(ls -A "$RUN_DIR")" ]]; then
    die "$RUN_DIR exists, is not empty and was not made by hbase.sh: refusing to wipe it"
  fi
}

is_running() { live_pid "$MASTER_PID_FILE" >/dev/null && live_pid "$THRIFT_PID_FILE" >/dev/null; }

cmd_start() {
  check_prereqs
  if is_running; then
    say "already running (thrift on 127.0.0.1:$HBASE_PORT, run dir $RUN_DIR); checking it serves ..."
    "$PYTHON" "$WAIT_READY" --port "$HBASE_PORT" --timeout "$HBASE_START_TIMEOUT" \
      --pid "$(live_pid "$MASTER_PID_FILE")" --pid "$(live_pid "$THRIFT_PID_FILE")" || { tail_logs 60; die "running but not serving"; }
    return 0
  fi
  # half-started or crashed leftovers of an earlier run
  stop_one thrift "$THRIFT_PID_FILE"
  stop_one master "$MASTER_PID_FILE"
  local p
  for p in "$HBASE_PORT" "$HBASE_ZK_PORT" "$HBASE_MASTER_PORT" "$HBASE_RS_PORT"; do
    ! port_in_use "$p" ||
      die "port $p on 127.0.0.1 is already in use (another HBase? set HBASE_PORT, HBASE_ZK_PORT, HBASE_MASTER_PORT, HBASE_RS_PORT)"
  done
  cmd_resolve

  # a FRESH run dir every time: stale WALs or ZooKeeper data of a killed run wedge start-up
  find "$RUN_DIR" -mindepth 1 -maxdepth 1 ! -name classpath.txt ! -name .portal-hbase-run \
    ! -name resolve.log -exec rm -rf -- {} +
  write_config

  local t0
  t0=$(now_ms)
  say "starting HMaster (standalone, ZooKeeper on 127.0.0.1:$HBASE_ZK_PORT) ..."
  start_jvm master "$HBASE_MASTER_HEAP" "$MASTER_LOG" org.apache.hadoop.hbase.master.HMaster start
  say "starting ThriftServer on 127.0.0.1:$HBASE_PORT ..."
  start_jvm thrift "$HBASE_THRIFT_HEAP" "$THRIFT_LOG" \
    org.apache.hadoop.hbase.thrift.ThriftServer -b "$HBASE_THRIFT_BIND" -p "$HBASE_PORT" start
  local mpid tpid
  mpid=$(<"$MASTER_PID_FILE"); tpid=$(<"$THRIFT_PID_FILE")
  say "pids: master $mpid, thrift $tpid; waiting up to ${HBASE_START_TIMEOUT}s for a create/put/get/delete round trip ..."
  if ! "$PYTHON" "$WAIT_READY" --port "$HBASE_PORT" --timeout "$HBASE_START_TIMEOUT" --pid "$mpid" --pid "$tpid"; then
    tail_logs 60
    say "start failed after $(secs_since "$t0")s; stopping what was started"
    stop_one thrift "$THRIFT_PID_FILE"
    stop_one master "$MASTER_PID_FILE"
    die "HBase did not become ready (logs in $LOG_DIR)"
  fi
  say "HBase is up: thrift 127.0.0.1:$HBASE_PORT, zookeeper 127.0.0.1:$HBASE_ZK_PORT, run dir $RUN_DIR"
  echo "started in $(secs_since "$t0")s"
}

cmd_stop() {
  stop_one thrift "$THRIFT_PID_FILE"
  stop_one master "$MASTER_PID_FILE"
  say "stopped"
}

cmd_status() {
  local m t
  m=$(live_pid "$MASTER_PID_FILE" || true); t=$(live_pid "$THRIFT_PID_FILE" || true)
  if [[ -n "$m" && -n "$t" ]]; then
    echo "running: master pid $m, thrift pid $t, thrift 127.0.0.1:$HBASE_PORT, run dir $RUN_DIR"
    return 0
  elif [[ -n "$m$t" ]]; then
    echo "partly running: master pid ${m:-none}, thrift pid ${t:-none} (run 'hbase.sh stop')"
    return 1
  fi
  echo "not running (run dir $RUN_DIR)"
  return 1
}

case "${1:-}" in
  resolve) cmd_resolve ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  logs) tail_logs "${2:-60}" 2>&1 ;;
  *) echo "usage: $0 {resolve|start|stop|restart|status|logs [N]}" >&2; exit 2 ;;
esac
