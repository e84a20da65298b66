#!/usr/bin/env bash
# Entry point of the streaming replica: on first start (empty data directory) clone the primary with
# `pg_basebackup -R` (writes standby.signal and primary_conninfo), then hand over to the image's own
# entrypoint, which finds an initialised directory and starts postgres as a hot standby.
set -euo pipefail
: "${PRIMARY_HOST:?PRIMARY_HOST must be set}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  # depends_on waits for the primary's healthcheck; this only covers a primary restarting meanwhile.
  for attempt in $(seq 1 60); do
    pg_isready -q -h "$PRIMARY_HOST" -p 5432 && break
    [ "$attempt" -eq 60 ] && { echo "primary $PRIMARY_HOST not ready after 60 s" >&2; exit 1; }
    sleep 1
  done
  echo "cloning $PRIMARY_HOST into $PGDATA (pg_basebackup -R)"
  gosu postgres env PGPASSWORD="$REPLICATION_PASSWORD" \
    pg_basebackup -h "$PRIMARY_HOST" -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast
fi

exec docker-entrypoint.sh "$@"
