#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store and class tests.
#
#   URL=$(bash .ci/postgres.sh)          # install if needed, start, print the SQLAlchemy URL
#   QUIZ_TEST_POSTGRES_URL=$URL pytest -m postgres
#   bash .ci/postgres.sh stop            # stop it and delete its data
#
# Installs Debian's `postgresql` package when no initdb is found, initialises a cluster in a
# temporary folder (as the `postgres` user, or `nobody`, when run as root: the server refuses
# to run as root), starts it on a free port of 127.0.0.1 with trust authentication, creates a
# database and prints `postgresql+psycopg://quiz@127.0.0.1:PORT/quiz_test` as the only line on
# stdout. Everything else goes to stderr. The state file (PGDATA and the user) is
# ${QUIZ_PG_STATE:-/tmp/quiz-postgres.state}; QUIZ_PG_OS_USER overrides the server's user under root.
set -euo pipefail

STATE=${QUIZ_PG_STATE:-/tmp/quiz-postgres.state}
log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

run_as() {  # run a command as the unprivileged server user when we are root
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u "$PGUSER_OS" -- "$@"
    else su -s /bin/sh "$PGUSER_OS" -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

if [ "${1:-start}" = stop ]; then
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
    PG_CTL=$(dirname "$INITDB")/pg_ctl
    [ -x "$PG_CTL" ] || PG_CTL=$(find_bin pg_ctl)
    run_as "$PG_CTL" -D "$PGDATA_DIR/data" -m fast -w stop >&2 || true
    rm -rf "$PGDATA_DIR" "$STATE"
    log "stopped"
  fi
  exit 0
fi

if [ -f "$STATE" ]; then  # a server this script started before and nobody stopped
  bash "$0" stop || true
fi

if ! INITDB=$(find_bin initdb); then
  log "no initdb found: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq postgresql >&2
  INITDB=$(find_bin initdb)
fi
# pg_ctl and postgres beside initdb (Debian keeps them in /usr/lib/postgresql/N/bin).
INITDB=$(readlink -f "$INITDB")
BIN=$(dirname "$INITDB")
PG_CTL=$BIN/pg_ctl
[ -x "$PG_CTL" ] || PG_CTL=$(find_bin pg_ctl)

PGUSER_OS=$(id -un)
if [ "$(id -u)" = 0 ]; then
  if [ -n "${QUIZ_PG_OS_USER:-}" ]; then PGUSER_OS=$QUIZ_PG_OS_USER
  elif id postgres >/dev/null 2>&1; then PGUSER_OS=postgres
  else PGUSER_OS=nobody; fi
fi

PGDATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/quiz-pg.XXXXXX")
chmod 755 "$PGDATA_DIR"
[ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$PGDATA_DIR"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat > "$STATE" <<EOF
PGDATA_DIR=$PGDATA_DIR
PGUSER_OS=$PGUSER_OS
INITDB=$INITDB
PORT=$PORT
EOF

log "initdb as $PGUSER_OS in $PGDATA_DIR"
run_as "$INITDB" -D "$PGDATA_DIR/data" -U quiz --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null 2>"$PGDATA_DIR/initdb.err" \
  || run_as "$INITDB" -D "$PGDATA_DIR/data" -U quiz --auth=trust --encoding=UTF8 --no-locale >&2
run_as "$PG_CTL" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2 || { cat "$PGDATA_DIR/server.log" >&2; exit 1; }

PSQL=$BIN/psql
[ -x "$PSQL" ] || PSQL=$(find_bin psql || true)
if [ -n "$PSQL" ]; then
  run_as "$PSQL" -h 127.0.0.1 -p "$PORT" -U quiz -d postgres -qAt -c "CREATE DATABASE quiz_test" >&2
else
  python3 - "$PORT" >&2 <<'EOF'
import sys, psycopg
with psycopg.connect(f"host=127.0.0.1 port={sys.argv[1]} user=quiz dbname=postgres", autocommit=True) as conn:
    conn.execute("CREATE DATABASE quiz_test")
EOF
fi
log "running on 127.0.0.1:$PORT (stop with: bash .ci/postgres.sh stop)"
echo "postgresql+psycopg://quiz@127.0.0.1:$PORT/quiz_test"
