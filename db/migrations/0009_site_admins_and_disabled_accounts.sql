-- 0009: site administrators and disabled accounts (issue 11, the admin command line).
-- is_admin: may use the node's operator API (/ops/...) with their own access token, as the OPS_TOKEN can.
-- disabled_at: set by an operator; a disabled account cannot sign in, and its sessions were revoked when
-- it was disabled. Both are read by key only (no index needed).
alter table users
  add column is_admin boolean not null default false,
  add column disabled_at timestamptz;
