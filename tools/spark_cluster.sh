#!/usr/bin/env bash
# A Spark standalone cluster on this machine: one master and two workers on 127.0.0.1.
#
#   tools/spark_cluster.sh start    # idempotent: starts what is not running, waits until both workers registered
#   tools/spark_cluster.sh status   # exit 0 when master and both workers are up, 3 otherwise
#   tools/spark_cluster.sh stop     # idempotent: stops workers, then the master, and removes their work folders
#   tools/spark_cluster.sh url      # prints the master URL (for IPLOS_SPARK_MASTER)
#
# It runs the daemon script that ships inside the pyspark package (pyspark/sbin/spark-daemon.sh, which
# start-master.sh / start-worker.sh call in a full Spark distribution; the pip package carries only
# it), so no separate Spark download is needed. Settings (environment):
#   PYTHON                     python with pyspark installed   (default: .venv/bin/python, else python3)
#   IPLOS_SPARK_CLUSTER_DIR    logs, pid files, work and scratch folders   (default: $TMPDIR/iplos-spark-cluster)
#   IPLOS_SPARK_PORT           master port                     (default 7077)
#   IPLOS_SPARK_UI_PORT        master web UI port; workers use the next two   (default 8980)
#   IPLOS_SPARK_WORKER_MEMORY  memory each worker offers its executors   (default 1g)
#   IPLOS_SPARK_WORKERS        number of workers, 1 core each   (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
state=${IPLOS_SPARK_CLUSTER_DIR:-${TMPDIR:-/tmp}/iplos-spark-cluster}
port=${IPLOS_SPARK_PORT:-7077}
ui_port=${IPLOS_SPARK_UI_PORT:-8980}
workers=${IPLOS_SPARK_WORKERS:-2}
worker_memory=${IPLOS_SPARK_WORKER_MEMORY:-1g}
master_url="spark://127.0.0.1:${port}"

spark_home=$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))') || {
    echo "spark_cluster: $PYTHON cannot import pyspark (install the extra: pip install 'iplos[spark]')" >&2
    exit 2
}
export SPARK_HOME="$spark_home"
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOG_DIR="$state/logs"
export SPARK_PID_DIR="$state/pids"
export SPARK_LOCAL_DIRS="$state/local"
export SPARK_IDENT_STRING=iplos
export SPARK_DAEMON_MEMORY=${SPARK_DAEMON_MEMORY:-256m}  # master and worker daemons, not the executors
# A master whose port is taken must fail, not move to the next port: its workers are pointed at
# $master_url and would join whichever cluster holds that port (and lose their executors' shuffle
# files when that cluster's owner stops it).
export SPARK_MASTER_OPTS="${SPARK_MASTER_OPTS:-} -Dspark.port.maxRetries=0"
# spark-daemon.sh rsyncs SPARK_HOME from $SPARK_MASTER when that is set: never let it.
unset SPARK_MASTER SPARK_CONF_DIR
daemon="$SPARK_HOME/sbin/spark-daemon.sh"
MASTER=org.apache.spark.deploy.master.Master
WORKER=org.apache.spark.deploy.worker.Worker

pid_of() {  # pid of a running daemon (class, instance), or nothing
    local file="$SPARK_PID_DIR/spark-$SPARK_IDENT_STRING-$1-$2.pid"
    [ -f "$file" ] || return 1
    local pid
    pid=$(cat "$file")
    if [ -n "$pid" ] && ps -p "$pid" -o comm= 2>/dev/null | grep -q java; then
        echo "$pid"
    else
        return 1
    fi
}

alive_workers() {  # workers the master lists as ALIVE (0 when the master does not answer)
    "$PYTHON" - "$ui_port" <<'EOF'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json/", timeout=2) as r:
        print(sum(1 for w in json.load(r).get("workers", []) if w.get("state") == "ALIVE"))
except Exception:
    print(0)
EOF
}

port_taken() {  # something listens on 127.0.0.1:$1
    "$PYTHON" -c 'import socket, sys; s = socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

is_up() {
    pid_of "$MASTER" 1 >/dev/null || return 1
    for i in $(seq 1 "$workers"); do pid_of "$WORKER" "$i" >/dev/null || return 1; done
    [ "$(alive_workers)" -ge "$workers" ]
}

start() {
    mkdir -p "$SPARK_LOG_DIR" "$SPARK_PID_DIR" "$SPARK_LOCAL_DIRS" "$state/work"
    if is_up; then
        echo "spark cluster already running at $master_url ($workers workers)"
        return 0
    fi
    if ! pid_of "$MASTER" 1 >/dev/null; then
        if port_taken "$port" || port_taken "$ui_port"; then
            echo "spark_cluster: port $port or $ui_port on 127.0.0.1 is taken by another process (another" \
                "cluster?); choose others with IPLOS_SPARK_PORT / IPLOS_SPARK_UI_PORT" >&2
            return 1
        fi
        "$daemon" start "$MASTER" 1 --host 127.0.0.1 --port "$port" --webui-port "$ui_port" >/dev/null
    fi
    # The workers start side by side (each launch waits a few seconds for its JVM); they retry
    # until the master answers.
    for i in $(seq 1 "$workers"); do
        if ! pid_of "$WORKER" "$i" >/dev/null; then
            mkdir -p "$state/work/$i"
            "$daemon" start "$WORKER" "$i" --host 127.0.0.1 --webui-port "$((ui_port + i))" \
                --cores 1 --memory "$worker_memory" --work-dir "$state/work/$i" "$master_url" >/dev/null &
        fi
    done
    wait
    for _ in $(seq 1 120); do
        if is_up; then
            echo "spark cluster running at $master_url ($workers workers, 1 core and $worker_memory each)"
            return 0
        fi
        sleep 0.5
    done
    echo "spark_cluster: the cluster did not come up within 60 s; logs in $SPARK_LOG_DIR:" >&2
    tail -n 20 "$SPARK_LOG_DIR"/*.out >&2 || true
    stop >&2
    return 1
}

stop_one() {  # stop a daemon (class, instance) and wait for its JVM to exit
    local pid
    pid=$(pid_of "$1" "$2") || { rm -f "$SPARK_PID_DIR/spark-$SPARK_IDENT_STRING-$1-$2.pid"; return 0; }
    "$daemon" stop "$1" "$2" >/dev/null || true
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true  # only this daemon's own pid, from its pid file
}

stop() {
    for i in $(seq 1 "$workers"); do stop_one "$WORKER" "$i" & done
    wait
    stop_one "$MASTER" 1
    rm -rf "$state/work" "$state/local"
    echo "spark cluster stopped"
}

status() {
    if is_up; then
        echo "spark cluster running at $master_url ($(alive_workers) workers alive)"
        return 0
    fi
    local master="down"
    pid_of "$MASTER" 1 >/dev/null && master="up"
    echo "spark cluster not running (master $master, $(alive_workers) of $workers workers alive)"
    return 3
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) echo "$master_url" ;;
    *)
        echo "usage: $0 start|stop|status|url" >&2
        exit 2
        ;;
esac
