import net from 'node:net';

/**
 * A TCP proxy in front of a test's PostgreSQL that can hold back what the server answers: while held, a
 * query a node sends through it runs (PostgreSQL takes its snapshot and builds the result) but the result
 * waits here until `release()`. So a test can let something commit after a node's read was taken and before
 * the node sees what it read (a read that is already stale when it arrives), with no timing involved: it
 * waits until the held answer holds a value it knows (`holding`).
 */
export interface HoldingProxy {
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** From now on the server's answers wait here. */
  hold(): void;
  /** Resolves once the answers held contain `text` (a value the read returns). */
  holding(text: string): Promise<void>;
  /** Passes on what is held, and everything after it. */
  release(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(targetUrl: string): Promise<HoldingProxy> {
  const target = new URL(targetUrl);
  const open = new Set<net.Socket>();
  const links = new Set<{ client: net.Socket; held: Buffer[] }>();
  let held = false;
  let waiters: { text: string; resolve: () => void }[] = [];

  const heldText = () => [...links].map((l) => Buffer.concat(l.held).toString('latin1')).join('\n');
  const check = () => {
    if (waiters.length === 0) return;
    const text = heldText();
    waiters = waiters.filter((w) => (text.includes(w.text) ? (w.resolve(), false) : true));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const link = { client, held: [] as Buffer[] };
    links.add(link);
    open.add(client);
    open.add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!held) {
        client.write(chunk);
        return;
      }
      link.held.push(chunk);
      check();
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined); // followed by 'close'
      socket.on('close', () => {
        open.delete(socket);
        links.delete(link);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    urlFor(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    hold() {
      held = true;
    },
    holding(text) {
      return new Promise((resolve) => {
        waiters.push({ text, resolve });
        check();
      });
    },
    release() {
      held = false;
      for (const link of links) {
        for (const chunk of link.held) link.client.write(chunk);
        link.held = [];
      }
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
