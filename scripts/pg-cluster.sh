#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests and benchmarks.
#   source scripts/pg-cluster.sh; pg_cluster_start; ...; pg_cluster_stop   (PG_PORT=… picks the port)
# Sets PG_CLUSTER_URL (postgres://postgres@127.0.0.1:$PORT/postgres). Runs the server as the `postgres`
# user when invoked as root (initdb refuses root). PGBIN defaults to /usr/lib/postgresql/15/bin.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

_pg_as() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

pg_cluster_start() {
  if [ ! -x "$PGBIN/initdb" ]; then echo "pg-cluster: no PostgreSQL binaries in $PGBIN" >&2; return 1; fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi
  PG_CLUSTER_DIR=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
  chmod 755 "$PG_CLUSTER_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_CLUSTER_DIR"
  PG_CLUSTER_PORT=${PG_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
  _pg_as "$PGBIN/initdb -D $PG_CLUSTER_DIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync" >"$PG_CLUSTER_DIR/initdb.log" 2>&1 \
    || { cat "$PG_CLUSTER_DIR/initdb.log" >&2; return 1; }
  _pg_as "$PGBIN/pg_ctl -D $PG_CLUSTER_DIR/data -l $PG_CLUSTER_DIR/server.log -w -o \"-p $PG_CLUSTER_PORT -c listen_addresses=127.0.0.1 -k $PG_CLUSTER_DIR -c max_connections=300 -c fsync=${PG_FSYNC:-on} -c shared_buffers=256MB\" start" >/dev/null \
    || { cat "$PG_CLUSTER_DIR/server.log" >&2; return 1; }
  export PG_CLUSTER_DIR PG_CLUSTER_PORT
  export PG_CLUSTER_URL="postgres://postgres@127.0.0.1:$PG_CLUSTER_PORT/postgres"
  echo "pg-cluster: PostgreSQL 15 on 127.0.0.1:$PG_CLUSTER_PORT ($PG_CLUSTER_DIR)" >&2
}

pg_cluster_stop() {
  [ -n "${PG_CLUSTER_DIR:-}" ] || return 0
  _pg_as "$PGBIN/pg_ctl -D $PG_CLUSTER_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$PG_CLUSTER_DIR"
  unset PG_CLUSTER_DIR
}
