import type { Redis, RedisOptions } from 'ioredis';

/**
 * How a node connects to Redis (its other connections are `duplicate`s of this one and inherit it).
 * `disableClientInfo`: ioredis names itself with CLIENT SETINFO on every connect, which Redis before 7.2
 * refuses; the relay's subscriber reported each refusal as an error, two warnings per connection on the
 * Redis 7.0 the project supports. The name only labels the connection in CLIENT LIST.
 */
export const NODE_REDIS_OPTIONS = {
  maxRetriesPerRequest: 2,
  // Commands of one turn still leave in one write: `writeEachTurnAtOnce` (below) instead of auto-pipelining.
  enableAutoPipelining: false,
  lazyConnect: false,
  disableClientInfo: true,
} as const satisfies RedisOptions;

/**
 * Observes the rejection of every command a connection sends, so that none is ever an unhandled rejection.
 * Some commands have nobody waiting for them: ioredis's own SUBSCRIBE/SSUBSCRIBE again after a reconnect,
 * the Redis adapter's SUNSUBSCRIBE when a room empties and its PUBLISH of a broadcast. One that fails (Redis
 * gone, or the connection closing at shutdown with the command in flight) would otherwise be an unhandled
 * rejection: logged and counted as a bug in production, a failed test run in the suite. A caller that awaits
 * a command still gets its rejection; `onError` hears every failure (callers that await log theirs too, so
 * pass a quiet one). What an unawaited command was for is repaired elsewhere: ioredis re-subscribes on the
 * next reconnect, the cluster bus resynchronises on resume (ClusterBus.onResume) and clients repair lost
 * broadcasts with `sync`. Hand-written: ioredis has no option for it (its commands are promises from
 * `sendCommand`, which is where this hooks in).
 */
export function observeEveryCommand(client: Redis, onError: (err: Error) => void): Redis {
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    const result = send(...args);
    if (result instanceof Promise) result.catch(onError);
    return result;
  }) as Redis['sendCommand'];
  return client;
}

/**
 * The commands a connection sends in one turn of the event loop leave in one socket write: the first command
 * of a turn corks the connection's socket and a `process.nextTick` uncorks it, so everything written until
 * the tick queue runs (the broadcasts of a group commit's batch, the relay's answers to several batches) goes
 * out in one `writev`. Each command is written at once, as without pipelining, and its reply resolves it.
 *
 * This replaces ioredis's auto-pipelining, which batched the same commands but through a `Pipeline` object
 * per turn, sent at `setImmediate`, one pipeline in flight per connection (the next waited for the previous
 * one's replies), and kept its commands reachable long enough to outlive scavenges: on four nodes at 400
 * msg/s, ioredis's objects were half of what survived the young generation's collections (docs/performance.md,
 * "Redis commands outlived the young generation"). Hand-written: ioredis has no option that coalesces writes
 * without its pipelines. A connection that is not ready queues its commands in ioredis's offline queue
 * (nothing to cork); a socket replaced by a reconnect meanwhile is uncorked all the same.
 */
export function writeEachTurnAtOnce(client: Redis): Redis {
  const send = client.sendCommand.bind(client);
  let corked: Redis['stream'] | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    if (!corked && client.status === 'ready' && !client.stream.destroyed) {
      corked = client.stream;
      corked.cork();
      process.nextTick(uncork);
    }
    return send(...args);
  }) as Redis['sendCommand'];
  return client;
}

/**
 * QUIT after the replies still owed (bounded by `timeoutMs`), then disconnect: commands already sent are
 * answered instead of rejected. A client that is not connected is simply disconnected.
 */
export async function closeRedisGently(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}
