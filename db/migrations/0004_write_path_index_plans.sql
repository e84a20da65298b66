-- 0004_write_path_index_plans: the write-path functions' cached plans use the indexes, whatever the table
-- sizes were when a connection first planned them.
--
-- 0003 made each connection keep the generic plan of these statements for its lifetime. A generic plan is
-- made with the statistics of the moment: on a young database (an empty or small messages table) the
-- planner finds a hash join over a sequential scan of `messages` (and of `rooms`) cheaper than index
-- lookups, and that plan then stays while the table grows. Seen with auto_explain under `pnpm bench`: every
-- send batch scanned the whole messages table (207 rows, then 711, … 3,616 after 12 s), so a send cost
-- grew with the number of messages ever sent (docs/performance.md, "A plan that grew with the table").
-- Every lookup in these functions is by key, so a sequential scan is never the right plan: forbid it for
-- the functions' own statements (a function-level setting, restored on return).
alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set enable_seqscan = off;
alter function chat_move_cursors(text[], text[], boolean[], bigint[]) set enable_seqscan = off;
