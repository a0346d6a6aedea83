#!/usr/bin/env bash
# Fieldline's production shape on loopback, without a Docker engine: PostgreSQL, Redis, the ASGI
# server with N workers, a Celery worker and beat, and a Twilio-compatible server standing in for
# Twilio. Everything lives under $STACK_DIR and listens on 127.0.0.1 only. The benchmarks in
# deploy/bench run against it.
#
#   deploy/local-stack.sh install   # Debian packages (postgresql, redis-server) and the Python requirements
#   deploy/local-stack.sh start     # starts everything, waits until /readyz and the worker answer
#   deploy/local-stack.sh status
#   deploy/local-stack.sh env       # the stack's settings, for: set -a; . "$(deploy/local-stack.sh env)"; set +a
#   deploy/local-stack.sh restart-app   # web, worker and beat only (after a code or setting change)
#   deploy/local-stack.sh reset-db  # a fresh, empty database (schema rebuilt), the app restarted
#   deploy/local-stack.sh stop      # stops everything cleanly (data kept; STACK_DIR can be deleted)
#
# Settings (environment, defaults in brackets): STACK_DIR [/tmp/fieldline-stack], PG_BIN
# [/usr/lib/postgresql/15/bin], PG_PORT [55432], REDIS_PORT [56379], WEB_PORT [8700], WEB_WORKERS [2],
# CELERY_CONCURRENCY [4], CELERY_POOL [prefork], SINK_CONTROL_PORT [8791], DB_POOL [true],
# DB_POOL_MAX_SIZE [10], PYTHON [.venv/bin/python or python3], STACK_SCHEMA [migrate | models: tables
# straight from the models, for a tree whose migrations are not regenerated yet], and any Fieldline
# setting (read by backend/settings.py) exported before `start`, e.g. SMS_OUTBOUND_RATE_PER_SENDER.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-/tmp/fieldline-stack}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
WEB_PORT="${WEB_PORT:-8700}"
WEB_WORKERS="${WEB_WORKERS:-2}"
CELERY_CONCURRENCY="${CELERY_CONCURRENCY:-4}"
CELERY_POOL="${CELERY_POOL:-prefork}"
SINK_CONTROL_PORT="${SINK_CONTROL_PORT:-8791}"
WORKER_METRICS_PORT="${WORKER_METRICS_PORT:-8792}"
STACK_SCHEMA="${STACK_SCHEMA:-migrate}"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi
BIN="$(dirname "$PYTHON")"
RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/log"
ENV_FILE="$STACK_DIR/stack.env"
READY_TIMEOUT="${READY_TIMEOUT:-90}"

say() { printf '[local-stack] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# PostgreSQL refuses to run as root: as root, its commands run as the `postgres` system user.
as_pg() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

need() {
    [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL binaries not found in $PG_BIN (run: $0 install, or set PG_BIN)"
    command -v redis-server >/dev/null || die "redis-server not found (run: $0 install)"
    "$PYTHON" -c "import django, uvicorn, celery" 2>/dev/null || die "$PYTHON lacks the requirements (run: $0 install)"
}

cmd_install() {
    [[ $(id -u) -eq 0 ]] || die "install needs root (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server
    if [[ ! -x "$ROOT/.venv/bin/python" ]]; then python3 -m venv "$ROOT/.venv"; fi
    "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt"
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Runs a long-lived process in the background with its own log and pid file.
spawn() {
    local name="$1"; shift
    if pid_alive "$RUN/$name.pid"; then say "$name already running"; return; fi
    (cd "$ROOT" && set -a && . "$ENV_FILE" && set +a && exec "$@") >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    say "$name started (pid $!, log $LOGS/$name.log)"
}

write_env() {
    local secret
    if [[ -f "$ENV_FILE" ]]; then secret="$(grep '^SECRET_KEY=' "$ENV_FILE" | cut -d= -f2-)"; fi
    secret="${secret:-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')}"
    cat >"$ENV_FILE" <<EOF
DJANGO_ENV=production
SECRET_KEY=$secret
ALLOWED_HOSTS=127.0.0.1,localhost
SECURE_SSL_REDIRECT=false
TRUST_X_FORWARDED_PROTO=false
PUBLIC_BASE_URL=http://127.0.0.1:$WEB_PORT
DATABASE_URL=postgres://fieldline@127.0.0.1:$PG_PORT/fieldline
DB_POOL=${DB_POOL:-true}
DB_POOL_MAX_SIZE=${DB_POOL_MAX_SIZE:-10}
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
CELERY_BROKER_URL=redis://127.0.0.1:$REDIS_PORT/1
SMS_PROVIDER=twilio
TWILIO_ACCOUNT_SID=ACbench
TWILIO_AUTH_TOKEN=bench-token
TWILIO_FROM_NUMBER=+15005550006
TWILIO_API_BASE_URL=$(cat "$RUN/twilio.url")
SINK_CONTROL_URL=http://127.0.0.1:$SINK_CONTROL_PORT
LOG_FORMAT=json
LOG_LEVEL=${LOG_LEVEL:-INFO}
BENCH_FLOOR_ENDPOINT=true
WORKER_METRICS_PORT=$WORKER_METRICS_PORT
STACK_WEB_URL=http://127.0.0.1:$WEB_PORT
WEB_WORKERS=$WEB_WORKERS
CELERY_CONCURRENCY=$CELERY_CONCURRENCY
CELERY_POOL=$CELERY_POOL
CLIENT_IP_HEADER=HTTP_X_REAL_IP
EOF
    # Any Fieldline setting exported by the caller (SMS_*, DB_*, ...) is passed on.
    env | grep -E '^(SMS_|DB_POOL_|DB_SERVER|DB_PREPARE|CELERY_TASK_|OTP_|API_)' >>"$ENV_FILE" || true
}

start_postgres() {
    local data="$STACK_DIR/pg"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        mkdir -p "$data"
        [[ $(id -u) -eq 0 ]] && chown postgres: "$data" "$RUN"
        chmod 700 "$data"
        # Trust on loopback only: a throwaway cluster for the benchmarks, no password to keep.
        as_pg "$PG_BIN/initdb" -D "$data" -U fieldline -A trust -E UTF8 --locale=C.UTF-8 >>"$LOGS/postgres.log"
        cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN'
max_connections = 200
shared_buffers = 256MB
EOF
    fi
    if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        say "postgres already running"
    else
        [[ $(id -u) -eq 0 ]] && chown postgres: "$RUN" "$LOGS/postgres.log" 2>/dev/null || true
        as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 start >/dev/null
        say "postgres started on 127.0.0.1:$PG_PORT"
    fi
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U fieldline -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'fieldline'" | grep -q 1 \
        || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U fieldline fieldline
}

start_redis() {
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis already running"; return; fi
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
        --dir "$STACK_DIR" --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log"
    say "redis started on 127.0.0.1:$REDIS_PORT"
}

start_sink() {
    if ! pid_alive "$RUN/twilio-sink.pid"; then
        rm -f "$RUN/twilio.url"
        "$PYTHON" "$ROOT/deploy/bench/twilio_sink.py" --url-file "$RUN/twilio.url" \
            --control-port "$SINK_CONTROL_PORT" >>"$LOGS/twilio-sink.log" 2>&1 &
        echo $! >"$RUN/twilio-sink.pid"
    fi
    for _ in $(seq 50); do [[ -s "$RUN/twilio.url" ]] && break; sleep 0.1; done
    [[ -s "$RUN/twilio.url" ]] || die "the Twilio sink did not start (see $LOGS/twilio-sink.log)"
    say "twilio sink at $(cat "$RUN/twilio.url")"
}

build_schema() {
    local settings_module=backend.settings
    [[ "$STACK_SCHEMA" == models ]] && settings_module=deploy.bench.schema_settings
    (cd "$ROOT" && set -a && . "$ENV_FILE" && set +a \
        && DJANGO_SETTINGS_MODULE=$settings_module "$PYTHON" manage.py migrate --noinput --run-syncdb) \
        >>"$LOGS/migrate.log" 2>&1 || die "migrate failed (see $LOGS/migrate.log)"
    say "schema ready ($STACK_SCHEMA)"
}

start_app() {
    # Each process kind gets its own folder of shared counters; cleared so a restart starts from zero.
    rm -rf "$STACK_DIR/metrics"
    mkdir -p "$STACK_DIR/metrics/web" "$STACK_DIR/metrics/worker"
    PROMETHEUS_MULTIPROC_DIR="$STACK_DIR/metrics/web" spawn web "$PYTHON" -m backend.serve \
        --host 127.0.0.1 --port "$WEB_PORT" --workers "$WEB_WORKERS" --loop uvloop --http httptools \
        --proxy-headers --forwarded-allow-ips 127.0.0.1 --timeout-graceful-shutdown 10
    PROMETHEUS_MULTIPROC_DIR="$STACK_DIR/metrics/worker" spawn worker "$BIN/celery" -A backend worker \
        --hostname "fieldline@%h" --pool "$CELERY_POOL" --concurrency "$CELERY_CONCURRENCY" --loglevel INFO
    spawn beat "$BIN/celery" -A backend beat --loglevel INFO --schedule "$STACK_DIR/celerybeat-schedule"
}

wait_ready() {
    local url="http://127.0.0.1:$WEB_PORT/readyz" deadline=$((SECONDS + READY_TIMEOUT))
    until curl -fsS -o /dev/null "$url" 2>/dev/null; do
        ((SECONDS < deadline)) || die "web not ready after ${READY_TIMEOUT}s (see $LOGS/web.log)"
        pid_alive "$RUN/web.pid" || die "web exited (see $LOGS/web.log)"
        sleep 0.5
    done
    say "web ready: $url"
    until curl -fsS -o /dev/null "http://127.0.0.1:$WORKER_METRICS_PORT/metrics" 2>/dev/null; do
        ((SECONDS < deadline)) || die "worker not ready after ${READY_TIMEOUT}s (see $LOGS/worker.log)"
        pid_alive "$RUN/worker.pid" || die "worker exited (see $LOGS/worker.log)"
        sleep 0.5
    done
    say "worker ready (metrics on 127.0.0.1:$WORKER_METRICS_PORT)"
}

cmd_start() {
    need
    mkdir -p "$RUN" "$LOGS"
    start_postgres
    start_redis
    start_sink
    write_env
    build_schema
    start_app
    wait_ready
    say "up. settings: $ENV_FILE"
}

# TERM, then up to 15 s for a clean exit (the worker finishes its task), then KILL.
stop_pid() {
    local name="$1" file="$RUN/$1.pid" pid
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then say "$name did not stop; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
        say "$name stopped"
    fi
    rm -f "$file"
}

cmd_stop_app() {
    stop_pid beat
    stop_pid worker
    stop_pid web
}

cmd_stop() {
    cmd_stop_app
    stop_pid twilio-sink
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        say "redis stopped"
    fi
    if [[ -f "$STACK_DIR/pg/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" -m fast -w stop >/dev/null
        say "postgres stopped"
    fi
}

cmd_reset_db() {
    need
    cmd_stop_app
    "$PG_BIN/dropdb" -h 127.0.0.1 -p "$PG_PORT" -U fieldline --if-exists fieldline
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U fieldline fieldline
    write_env
    build_schema
    start_app
    wait_ready
}

cmd_status() {
    local name
    for name in twilio-sink web worker beat; do
        if pid_alive "$RUN/$name.pid"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
    done
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "redis: running"; else echo "redis: stopped"; fi
    if [[ -f "$STACK_DIR/pg/PG_VERSION" ]] && as_pg "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" status >/dev/null 2>&1; then
        echo "postgres: running"
    else
        echo "postgres: stopped"
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart-app) need; cmd_stop_app; write_env; start_app; wait_ready ;;
    reset-db) cmd_reset_db ;;
    status) cmd_status ;;
    env) [[ -f "$ENV_FILE" ]] || die "not started"; echo "$ENV_FILE" ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
