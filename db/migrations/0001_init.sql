-- 0001_init: the data model of DESIGN.md.
--
-- Runs on PostgreSQL 15 and on PGlite alike, as one string (the migrator executes the whole file inside
-- the migration transaction), so: no CREATE INDEX CONCURRENTLY, no extensions, no psql meta-commands.
-- Ids are opaque text made by the application (crypto.randomUUID()), except messages.id, which is the
-- client's own UUID and doubles as the idempotency key of message:send.
-- Enumerations are text + CHECK rather than CREATE TYPE: adding a value later is a plain constraint swap
-- inside a transaction, which ALTER TYPE ... ADD VALUE is not.

create table users (
  id            text        primary key,
  -- Stored lower-case (PROTOCOL.md: 3-32 chars of [a-z0-9_]); the check makes a caller that forgot to
  -- lower-case fail loudly instead of creating a second "Alice".
  username      text        not null unique check (username ~ '^[a-z0-9_]{3,32}$'),
  display_name  text        not null,
  password_hash text        not null,
  created_at    timestamptz not null default now()
);
-- GET /api/users?query= is a prefix search; text_pattern_ops lets LIKE 'abc%' use an index whatever the
-- database collation is.
create index users_username_prefix_idx on users (username text_pattern_ops);

-- One row per refresh-token family. Rotation replaces refresh_token_hash and bumps generation; presenting
-- an older token of the family (reuse) revokes the whole family.
create table sessions (
  id                 text        primary key,
  user_id            text        not null references users (id) on delete cascade,
  refresh_token_hash text        not null unique,
  generation         integer     not null default 0 check (generation >= 0),
  revoked_at         timestamptz,
  created_at         timestamptz not null default now(),
  last_used_at       timestamptz not null default now(),
  expires_at         timestamptz not null
);
create index sessions_user_id_idx on sessions (user_id);

create table rooms (
  id         text        primary key,
  name       text        not null,
  type       text        not null check (type in ('public', 'private', 'direct')),
  -- For direct rooms: the two user ids, sorted and joined, so "open a direct room with X" is an
  -- idempotent INSERT ... ON CONFLICT (direct_key). NULL (never equal to another NULL) for the rest.
  direct_key text        unique,
  -- The last allocated message seq. Writers lock this row (UPDATE ... SET last_seq = last_seq + k
  -- RETURNING), which is what makes seq gapless and commit-ordered across nodes.
  last_seq   bigint      not null default 0 check (last_seq >= 0),
  created_by text        references users (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint rooms_direct_key_only_for_direct check ((type = 'direct') = (direct_key is not null))
);

create table room_members (
  room_id       text        not null references rooms (id) on delete cascade,
  user_id       text        not null references users (id) on delete cascade,
  role          text        not null default 'member' check (role in ('owner', 'admin', 'member')),
  -- Cumulative receipt cursors: one row per member, not one per member per message.
  delivered_seq bigint      not null default 0 check (delivered_seq >= 0),
  read_seq      bigint      not null default 0 check (read_seq >= 0),
  joined_at     timestamptz not null default now(),
  -- Leaving keeps the row (and its cursors) so a re-join or an audit can still see it.
  left_at       timestamptz,
  primary key (room_id, user_id)
);
-- Member lists and fan-out only ever want current members.
create index room_members_active_idx on room_members (room_id, user_id) where left_at is null;
-- "My rooms" (the room list, socket room joins at connect) is by user, and also only current membership.
create index room_members_user_idx on room_members (user_id, room_id) where left_at is null;

create table messages (
  id         uuid        primary key,
  room_id    text        not null references rooms (id) on delete cascade,
  seq        bigint      not null check (seq > 0),
  sender_id  text        not null references users (id),
  content    text        not null,
  reply_to   uuid        references messages (id) on delete set null,
  created_at timestamptz not null default now(),
  edited_at  timestamptz,
  deleted_at timestamptz,
  -- History and sync page by (room_id, seq); the unique index is also that access path.
  constraint messages_room_seq_key unique (room_id, seq)
);
-- Rows arrive in created_at order, so a BRIN index is tiny and good for time-range scans and retention.
create index messages_created_at_brin on messages using brin (created_at);
-- Search: queries must use the same expression, to_tsvector('simple', content), to hit this index.
create index messages_content_fts_idx on messages using gin (to_tsvector('simple', content));

create table reactions (
  message_id uuid        not null references messages (id) on delete cascade,
  user_id    text        not null references users (id) on delete cascade,
  emoji      text        not null check (char_length(emoji) between 1 and 32),
  created_at timestamptz not null default now(),
  primary key (message_id, user_id, emoji)
);

-- One request per (room, user): asking again after a rejection updates the row back to 'pending'; the
-- audit log keeps the history of decisions.
create table join_requests (
  room_id    text        not null references rooms (id) on delete cascade,
  user_id    text        not null references users (id) on delete cascade,
  status     text        not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  created_at timestamptz not null default now(),
  decided_by text        references users (id) on delete set null,
  decided_at timestamptz,
  primary key (room_id, user_id),
  constraint join_requests_decision_complete check ((status = 'pending') = (decided_at is null))
);
create index join_requests_pending_idx on join_requests (room_id, created_at) where status = 'pending';

create table bans (
  room_id    text        not null references rooms (id) on delete cascade,
  user_id    text        not null references users (id) on delete cascade,
  reason     text,
  banned_by  text        references users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (room_id, user_id)
);

-- A timeout is active while until > now(); an expired row is simply ignored (and overwritten by the next).
create table timeouts (
  room_id    text        not null references rooms (id) on delete cascade,
  user_id    text        not null references users (id) on delete cascade,
  until      timestamptz not null,
  reason     text,
  created_by text        references users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (room_id, user_id)
);

-- No foreign keys: the audit trail must outlive the rooms and users it talks about.
create table audit_log (
  id             bigserial   primary key,
  room_id        text,
  actor_id       text,
  action         text        not null,
  target_user_id text,
  details        jsonb       not null default '{}'::jsonb,
  created_at     timestamptz not null default now()
);
create index audit_log_room_idx on audit_log (room_id, id);
