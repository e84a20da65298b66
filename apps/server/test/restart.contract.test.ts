import { HttpApi, Session, ChatSocket, type ConnectionState } from '@chat/client';
import type { Message } from '@chat/protocol';
import { BACKENDS, startNode, type TestNode } from './support/harness';
import { useDataHome } from './support/node-fixture';

/** A user of the SDK: session, REST and a socket that reconnects and syncs by itself. */
async function sdkUser(node: TestNode, username: string) {
  const anon = new HttpApi({ baseUrl: node.url });
  const session = new Session({ api: anon });
  await session.register({ username, password: 'correct horse battery' });
  return { session, api: anon.withAuth(session) };
}

function received(socket: ChatSocket): Message[] {
  const out: Message[] = [];
  socket.on('message', (m) => out.push(m));
  return out;
}

function until<T>(check: () => T | undefined, socket: ChatSocket, event: 'message' | 'synced' | 'connection'): Promise<T> {
  return new Promise((resolve) => {
    const now = check();
    if (now !== undefined) return resolve(now);
    const off = socket.on(event, () => {
      const v = check();
      if (v === undefined) return;
      off();
      resolve(v);
    });
  });
}

describe.each(BACKENDS)('restart safety on %s', (backend) => {
  const home = useDataHome(backend);

  test('acknowledged messages survive a node restart on the same data, and a client that was away gets them through sync', async () => {
    let node = await startNode(home, { MESSAGES_PER_SECOND: '1000' });
    const suffix = Math.random().toString(36).slice(2, 8);
    const alice = await sdkUser(node, `alice_${suffix}`);
    const bob = await sdkUser(node, `bob_${suffix}`);
    const { room } = await alice.api.createRoom({ name: 'durable', type: 'public' });
    await bob.api.joinRoom(room.id);

    const a = new ChatSocket({ url: node.url, auth: alice.session, reconnectionDelay: 100, reconnectionDelayMax: 500 });
    await until(() => (a.connectionState === 'connected' ? true : undefined), a, 'connection');
    const acked: Message[] = [];
    for (let i = 1; i <= 30; i++) acked.push(await a.send(room.id, `before restart ${i}`).ack);

    // Sends in flight while the node stops: each either fails or was committed before its ack.
    const inFlight = Array.from({ length: 20 }, (_, i) => a.send(room.id, `in flight ${i}`));
    await node.close();
    // Closing the client rejects what is still waiting for an ack: those are indeterminate, not acked.
    a.close();
    const outcomes = await Promise.allSettled(inFlight.map((s) => s.ack));
    for (const o of outcomes) if (o.status === 'fulfilled') acked.push(o.value);

    node = await startNode(home, { MESSAGES_PER_SECOND: '1000' });
    try {
      const b = new ChatSocket({ url: node.url, auth: bob.session });
      const got = received(b);
      const ackedIds = new Set(acked.map((m) => m.id));
      const all = await until(() => (got.filter((m) => ackedIds.has(m.id)).length === ackedIds.size ? got : undefined), b, 'message');
      // Everything acknowledged is there, once, in seq order, gapless from 1.
      expect(all.filter((m) => ackedIds.has(m.id))).toHaveLength(acked.length);
      expect(new Set(all.map((m) => m.id)).size).toBe(all.length);
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
      // The restarted node listens on another port.
      const history = await new HttpApi({ baseUrl: node.url }).withAuth(bob.session).history(room.id, { after: 0, limit: 100 });
      expect(history.messages.map((m) => m.id)).toEqual(all.map((m) => m.id));
      b.close();
    } finally {
      await node.close();
    }
  });

  test('a client reconnects after a server-side disconnect and syncs what it missed, without duplicates', async () => {
    const node = await startNode(home, { MESSAGES_PER_SECOND: '1000' });
    try {
      const suffix = Math.random().toString(36).slice(2, 8);
      const alice = await sdkUser(node, `alice2_${suffix}`);
      const bob = await sdkUser(node, `bob2_${suffix}`);
      const { room } = await alice.api.createRoom({ name: 'blip', type: 'public' });
      await bob.api.joinRoom(room.id);
      const a = new ChatSocket({ url: node.url, auth: alice.session });
      const b = new ChatSocket({ url: node.url, auth: bob.session, reconnectionDelay: 50, reconnectionDelayMax: 200 });
      const got = received(b);
      const states: ConnectionState[] = [];
      b.on('connection', (s) => states.push(s));
      await until(() => (b.connectionState === 'connected' ? true : undefined), b, 'connection');
      for (let i = 0; i < 5; i++) await a.send(room.id, `live ${i}`).ack;
      await until(() => (got.length >= 5 ? true : undefined), b, 'message');

      // Disconnect bob from the server side (like a node shedding load) and send while he is away.
      const away = until(() => (b.connectionState !== 'connected' ? true : undefined), b, 'connection');
      node.app.io.in(`user:${(await bob.api.me()).user.id}`).disconnectSockets(true);
      await away;
      for (let i = 0; i < 60; i++) await a.send(room.id, `missed ${i}`).ack;
      await until(() => (got.length >= 65 ? true : undefined), b, 'message');
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 65 }, (_, i) => i + 1));
      expect(new Set(got.map((m) => m.id)).size).toBe(65);
      expect(states).toContain('reconnecting');
      a.close();
      b.close();
    } finally {
      await node.close();
    }
  });
});
