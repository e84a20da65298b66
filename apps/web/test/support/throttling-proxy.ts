import net from 'node:net';

/**
 * A TCP proxy in front of a test's node that can hold back what clients send: with a limit set, the bytes a
 * client sends reach the node at most that fast and the rest waits here, so an upload is still under way on
 * the node after the browser has handed all of it over. (Chromium 156 stopped slowing uploads under CDP's
 * `Network.emulateNetworkConditions`, which the browser tests used before.)
 *
 * Reading from a client never pauses, so a client that goes away (a cancelled upload) is seen at once, and
 * what it sent that was still held back is dropped with its connection to the node, as bytes still in a slow
 * link would be: the node sees the request cut off half-way.
 */
export interface ThrottlingProxy {
  /** Where browsers connect instead of the node. */
  readonly url: string;
  /** Bytes a second from each client to the node; undefined: as fast as they come. */
  limitUploads(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

const TICK_MS = 100;

export async function startThrottlingProxy(targetUrl: string): Promise<ThrottlingProxy> {
  const target = new URL(targetUrl);
  let limit: number | undefined;
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(upstream);
    const held: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let clientEnded = false;

    const cut = (): void => {
      if (timer) clearTimeout(timer);
      held.length = 0;
      client.destroy();
      upstream.destroy();
    };
    /** Passes on what is held: all of it without a limit, one tick's worth with one. */
    const release = (): void => {
      timer = undefined;
      let budget = limit === undefined ? Infinity : Math.max(1, Math.floor((limit * TICK_MS) / 1000));
      while (budget > 0 && held.length > 0) {
        const head = held[0]!;
        const part = head.length <= budget ? head : head.subarray(0, budget);
        upstream.write(part);
        budget -= part.length;
        if (part === head) held.shift();
        else held[0] = head.subarray(part.length);
      }
      if (held.length > 0) timer = setTimeout(release, TICK_MS);
      else if (clientEnded) upstream.end();
    };

    client.on('data', (chunk: Buffer) => {
      held.push(chunk);
      if (!timer) release();
    });
    // A client that half-closes with nothing held back is done sending; one that leaves with bytes still held
    // cut its request off.
    client.on('end', () => {
      clientEnded = true;
      if (held.length > 0) cut();
      else upstream.end();
    });
    upstream.pipe(client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined); // followed by 'close'
      socket.on('close', () => {
        open.delete(socket);
        cut();
      });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    limitUploads(bytesPerSecond) {
      limit = bytesPerSecond;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
