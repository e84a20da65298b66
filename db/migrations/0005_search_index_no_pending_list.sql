-- 0005_search_index_no_pending_list: the full-text index takes each message as it is inserted.
--
-- With GIN's default `fastupdate`, new entries go to a pending list, and the insert that finds the list
-- over gin_pending_list_limit (4 MB) merges all of it into the index before it returns. That insert is a
-- group-commit batch: every send queued behind it waited. Under `pnpm bench ramp` on one node this showed
-- as delivery p99 of ~1,020 ms at 500–800 msg/s, every ~20,000 messages (docs/performance.md). Without the
-- pending list each insert updates the index itself: a little more work per message, and no stall.
alter index messages_content_fts_idx set (fastupdate = off);
