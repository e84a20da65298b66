import { withPgClient } from './pg-client';
import { waitUntil } from './wait-until';

export interface ReplicaPair {
  primaryUrl: string;
  replicaUrl: string;
}

/**
 * Resolves once the replica has replayed everything the primary had written when this was called
 * (replay LSN >= the primary's current WAL LSN). LSNs are cluster-wide, so any database of either
 * server will do. A "replica" URL that is not in recovery (a developer pointing both URLs at one
 * server) is trivially caught up.
 */
export async function waitForReplicaCatchUp(
  { primaryUrl, replicaUrl }: ReplicaPair,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<void> {
  const target = await withPgClient(primaryUrl, async (client) => {
    const { rows } = await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
    return rows[0]!.lsn;
  });
  await withPgClient(replicaUrl, async (client) => {
    const { rows } = await client.query<{ recovering: boolean }>('select pg_is_in_recovery() as recovering');
    if (!rows[0]!.recovering) return;
    try {
      await waitUntil(
        async () => {
          const result = await client.query<{ done: boolean | null }>(
            'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done',
            [target],
          );
          return result.rows[0]!.done === true;
        },
        { description: `replica ${replicaUrl} to replay up to ${target}`, timeoutMs, intervalMs: 20 },
      );
    } catch (error) {
      // The usual reason a test hangs here is a replay it paused itself; say so.
      const { rows: state } = await client.query<{ state: string }>(
        'select pg_get_wal_replay_pause_state() as state',
      );
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message} (replay pause state: ${state[0]!.state})`);
    }
  });
}

/**
 * Pauses WAL replay on a replica and waits until it has actually stopped (the pause is only a request
 * until the startup process reaches it), so anything the primary commits afterwards stays invisible
 * on the replica until `resumeReplay`. The replica keeps receiving WAL meanwhile.
 */
export async function pauseReplay(replicaUrl: string, { timeoutMs = 10_000 }: { timeoutMs?: number } = {}) {
  await withPgClient(replicaUrl, async (client) => {
    await client.query('select pg_wal_replay_pause()');
    await waitUntil(
      async () => {
        const { rows } = await client.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
        return rows[0]!.state === 'paused';
      },
      { description: `replay to pause on ${replicaUrl}`, timeoutMs, intervalMs: 20 },
    );
  });
}

export async function resumeReplay(replicaUrl: string): Promise<void> {
  await withPgClient(replicaUrl, (client) => client.query('select pg_wal_replay_resume()'));
}
