-- 0003_write_path_generic_plans: the write-path functions always use their generic plan.
--
-- PL/pgSQL caches the plan of each statement, but for a statement with parameters it plans it afresh
-- (a custom plan) for the first five calls and keeps doing so while a custom plan looks cheaper than the
-- generic one, which for chat_send_messages' CTE it always does. Planning that statement costs more than
-- running it: on this project's machine a one-message batch took 1.09 ms of database CPU with custom plans
-- and 0.50 ms with the generic plan (pgbench, synchronous_commit off; docs/performance.md). The statements'
-- shapes do not depend on the values, so the generic plan is the right one.
alter function chat_send_messages(uuid[], text[], text[], text[], uuid[]) set plan_cache_mode = force_generic_plan;
alter function chat_move_cursors(text[], text[], boolean[], bigint[]) set plan_cache_mode = force_generic_plan;
