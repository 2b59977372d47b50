#!/usr/bin/env bash
# A throw-away PostgreSQL for tests, on 127.0.0.1, in a scratch directory.
#   pg-test-server.sh start DIR PORT   creates and starts it; prints its URL
#   pg-test-server.sh stop DIR         stops it (fast shutdown)
#   pg-test-server.sh kill DIR         stops it at once (immediate shutdown: a crash)
#   pg-test-server.sh restart DIR      starts it again after stop/kill, same data and port
# Database and user "vendo", password in DIR/password (scram-sha-256: the password is really
# checked). As root it runs the server as the "postgres" user, as initdb requires.
set -euo pipefail

cmd=${1:?usage: pg-test-server.sh start|stop|kill|restart DIR [PORT]}
dir=${2:?missing DIR}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bindir" ]]; then
  echo "pg-test-server: PostgreSQL is not installed (apt: postgresql; make deps installs it)" >&2
  exit 1
fi
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?missing PORT}
    mkdir -p "$dir"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi
    as_pg "$bindir/initdb" -D "$dir/data" -U vendo -A scram-sha-256 --pwfile="$dir/password" \
      --no-sync --locale=C -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    ;&
  restart)
    port=$(cat "$dir/port")
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    if [[ "$cmd" == start ]]; then
      PGPASSWORD=$(cat "$dir/password") "$bindir/createdb" -h 127.0.0.1 -p "$port" -U vendo vendo
    fi
    echo "postgres://vendo@127.0.0.1:$port/vendo"
    ;;
  stop)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  kill)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  *)
    echo "pg-test-server: unknown command $cmd" >&2
    exit 2
    ;;
esac
