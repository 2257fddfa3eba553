#!/usr/bin/env bash
# One entry point for the portal's everyday commands.
#   ./portal.sh run [DATA_PATH ...]  set up (virtualenv, install, migrate, store tables), ingest the
#                                     demo data when the store is empty, serve on http://127.0.0.1:8000
#   ./portal.sh test [pytest args]   run the whole test suite (starts a local HBase for the hbase
#                                     backend tests when Java and Maven are present, stops it after)
#   ./portal.sh setup                only the set-up step
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

log() { echo "[portal] $*" >&2; }

setup() {
  if [ ! -x "$PY" ]; then
    log "creating virtualenv $VENV"
    python3 -m venv "$VENV"
  fi
  if [ ! -f "$VENV/.requirements.sha" ] || ! sha256sum -c --status "$VENV/.requirements.sha" 2>/dev/null; then
    log "installing Python packages (requirements.txt)"
    "$PY" -m pip install -q --upgrade pip >/dev/null
    "$PY" -m pip install -q -r requirements.txt
    sha256sum requirements.txt > "$VENV/.requirements.sha"
  fi
  mkdir -p var
  "$PY" manage.py migrate --noinput -v0
  "$PY" manage.py store_init
}

WORKER_PID=""
stop_worker() {
  if [ -n "$WORKER_PID" ]; then
    kill "$WORKER_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
  fi
}

run() {
  setup
  "$PY" manage.py ingest_demo "$@"
  # Fits run in a Celery worker; with no CELERY_BROKER_URL its broker is a folder under var/.
  mkdir -p var/log
  "$VENV/bin/celery" -A portal worker --loglevel=INFO --concurrency=1 >var/log/celery.log 2>&1 &
  WORKER_PID=$!
  trap stop_worker EXIT INT TERM
  log "fit worker started (log: var/log/celery.log)"
  log "serving on http://127.0.0.1:${PORT:-8000}"
  "$PY" manage.py runserver "127.0.0.1:${PORT:-8000}"
}

HBASE_STARTED=""
stop_started() {
  if [ -n "$HBASE_STARTED" ]; then
    log "stopping the HBase this run started"
    deploy/hbase/hbase.sh stop || true
  fi
}

start_hbase_if_possible() {
  if PYTHON="$PY" deploy/hbase/hbase.sh status >/dev/null 2>&1; then
    log "HBase already running"
    return
  fi
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    log "no java/mvn: the hbase backend tests will be skipped (they fail under CI=true)"
    return
  fi
  PYTHON="$PY" deploy/hbase/hbase.sh start
  HBASE_STARTED=1
}

tests() {
  setup
  trap stop_started EXIT
  start_hbase_if_possible
  # Two processes (the machine has 2 cores); a module stays on one worker so its fixtures are built once.
  "$PY" -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
}

case "${1:-}" in
  run) shift; run "$@" ;;
  test) shift; tests "$@" ;;
  setup) setup ;;
  *) echo "usage: ./portal.sh run [DATA_PATH ...] | test [pytest args] | setup" >&2; exit 2 ;;
esac
