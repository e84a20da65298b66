import type { Redis, RedisOptions } from 'ioredis';

/**
 * How a node connects to Redis (its other connections are `duplicate`s of this one and inherit it).
 * `disableClientInfo`: ioredis names itself with CLIENT SETINFO on every connect, which Redis before 7.2
 * refuses; the relay's subscriber reported each refusal as an error, two warnings per connection on the
 * Redis 7.0 the project supports. The name only labels the connection in CLIENT LIST.
 */
export const NODE_REDIS_OPTIONS = {
  maxRetriesPerRequest: 2,
  enableAutoPipelining: true,
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
