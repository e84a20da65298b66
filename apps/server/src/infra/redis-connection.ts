import type { Redis } from 'ioredis';

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
