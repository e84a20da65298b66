-- 0011: a room's topic (issue 10 part 1), set with its name by the owner or an admin
-- (PATCH /api/rooms/:roomId). Null when there is none; the protocol caps it at 500 characters.
alter table rooms add column topic text check (length(topic) <= 2000);
