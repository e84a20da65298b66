/**
 * The benchmark's seam into the node (`@chat/server/write-path`, used by packages/bench `group-commit`):
 * the group-commit writer the node itself uses for `message:send`, so the benchmark measures the real
 * batching and statements, with no copy of their SQL. Not part of the node's API (`@chat/server`).
 */
export { GroupCommitWriter } from './features/messages/group-commit';
