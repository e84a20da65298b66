-- 0012: profile pictures (issue 10 part 1). The bytes are in the file store under `avatars/<avatar_id>`;
-- a new picture gets a new id (so its address can be cached forever) and the old bytes are deleted.
alter table users
  add column avatar_id uuid unique,
  add column avatar_type text;
