-- 0008_search_index_merged_in_background: new messages enter the full-text index through GIN's pending
-- list again, and the nodes merge that list in the background, off the send path.
--
-- 0005 turned the pending list off, because the insert that found it over gin_pending_list_limit (4 MB,
-- ~20,000 messages) merged all of it before returning, and that insert was a group-commit batch (delivery
-- p99 ~1 s every ~20,000 messages). Without the list every send updates the index itself, one posting
-- entry per distinct word, inside the batch that holds its rooms' locks. Measured (docs/performance.md
-- row 13): that is ~25 % of PostgreSQL's CPU per message at batches of 4 (0.375 ms against 0.282 ms with
-- the list merged every 500 ms, 0.253 ms with no index at all, 40,000 messages, primary and replica).
--
-- Now each node calls chat_merge_search_pending() every second (SEARCH_INDEX_MERGE_INTERVAL_MS): the list
-- holds about one second of messages, far below the limit, so no send ever merges it inline; the merge
-- sorts a second's entries into the index at once, cheaper per entry than one by one, in its own
-- transaction that locks no room. Searches read the pending list too, on the primary and the replicas (it
-- is WAL-logged), so a message is searchable as soon as it is committed, merged or not.
alter index messages_content_fts_idx set (fastupdate = on);

-- gin_clean_pending_list() needs the index's owner (as VACUUM does): SECURITY DEFINER lets nodes that
-- connect as a less privileged role run this one merge. One merge at a time across the cluster: a node
-- that finds another merging skips its turn (-1) instead of queueing behind it holding a connection.
create or replace function chat_merge_search_pending() returns bigint
  language sql security definer set search_path = pg_catalog, public as $$
  select case
    when pg_try_advisory_xact_lock(hashtext('chat_merge_search_pending'))
      then gin_clean_pending_list('public.messages_content_fts_idx'::regclass)
    else -1
  end;
$$;
