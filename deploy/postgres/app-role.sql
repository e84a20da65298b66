-- The role the chat nodes connect as (issue 9, item 7): it reads and writes rows and runs the schema's
-- functions, and can change nothing else: no DDL, no superuser, no ownership. The schema (tables, indexes,
-- functions) belongs to the role that runs `pnpm migrate` (:"owner"); default privileges give the app role
-- the rows of every table and sequence that role creates later, so a new migration needs no new grant.
-- The one maintenance task a node does, merging the search index's pending list, runs through a SECURITY
-- DEFINER function owned by :"owner" (db/migrations/0008).
--
--   psql -v owner=chat -v app=chat_app -v app_password=... -f app-role.sql     (as a superuser or :"owner")
-- Run by deploy/postgres/primary-init.sh when the primary is first initialised, and by a test against a
-- real server (apps/server/test/least-privilege.test.ts).

CREATE ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';
GRANT CONNECT ON DATABASE :"dbname" TO :"app";
GRANT USAGE ON SCHEMA public TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO :"app";
-- Tables that exist already (a role added to a database migrated before).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO :"app";
