#!/usr/bin/env bash
# Runs once, when the primary's data directory is initialised (/docker-entrypoint-initdb.d): creates the
# role the streaming replica connects as (and lets it open replication connections with a password), and
# the least-privileged role the chat nodes connect as (app-role.sql, mounted beside this script).
set -euo pipefail
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set}"
: "${CHAT_APP_PASSWORD:?CHAT_APP_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" --set=password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL

# `host all all all scram-sha-256` in the image's pg_hba.conf does not cover replication connections.
echo 'host replication replicator all scram-sha-256' >> "$PGDATA/pg_hba.conf"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner="$POSTGRES_USER" -v app=chat_app -v app_password="$CHAT_APP_PASSWORD" -v dbname="$POSTGRES_DB" \
  -f /docker-entrypoint-initdb.d/app-role.sql.in
