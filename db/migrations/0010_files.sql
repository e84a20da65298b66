-- 0010: files posted with messages (issue 10 part 5; PROTOCOL.md "Files").
--
-- A row says what a file is and where its bytes are (`storage_key` in the node's file store: the local
-- disk or an S3-compatible bucket); the bytes are never in the database. A file is uploaded for a message
-- id the client has already chosen (its idempotency key) before the message is sent, so the send itself
-- stays one statement of the group commit: it names the file ids, which the node checks against these rows
-- (same uploader, room and message id) and marks `claimed` before it queues the message; a message shows
-- only claimed files (one uploaded and then removed from the composer never appears). A row is 'pending' while its bytes
-- are being written and 'stored' once they all are; a pending row older than an hour is an upload that
-- died with its node, removed with whatever bytes it left by the sweeper.
create table files (
  id           uuid        primary key,
  room_id      text        not null references rooms (id) on delete cascade,
  message_id   uuid        not null,
  uploader_id  text        not null references users (id),
  name         text        not null check (length(name) between 1 and 800),
  content_type text        not null,
  size         bigint      not null check (size >= 0),
  storage_key  text        not null unique,
  state        text        not null default 'pending' check (state in ('pending', 'stored')),
  claimed      boolean     not null default false,
  created_at   timestamptz not null default now()
);
-- A message's files, for every read that returns messages.
create index files_message_id on files (message_id);
-- The sweeper's scan of abandoned uploads.
create index files_pending on files (created_at) where state = 'pending';
