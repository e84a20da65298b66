import { randomUUID } from 'node:crypto';
import { sql } from '@chat/db';
import { io } from 'socket.io-client';
import { createRoom, http, registerUser } from './support/harness';
import { describeOnEachBackend } from './support/node-fixture';

describeOnEachBackend('operations', { env: { ALLOWED_ORIGINS: 'http://app.example.test' } }, (node) => {
  test('healthz, and readyz naming the same node as hello', async () => {
    expect(await http(node.url, 'GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await http<{ status: string; node: string }>(node.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    const user = await registerUser(node);
    const { hello } = await node.connect(user.accessToken);
    expect(hello).toMatchObject({ userId: user.user.id, protocol: 1, node: ready.body.node, rooms: [] });
  });

  test('readyz turns 503 while draining', async () => {
    node.app.lifecycle.draining = true;
    try {
      expect(await http(node.url, 'GET', '/readyz')).toMatchObject({ status: 503, body: { failing: 'draining' } });
    } finally {
      node.app.lifecycle.draining = false;
    }
  });

  test('metrics: Prometheus text with chat_ counters that move', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    const { socket } = await node.connect(user.accessToken);
    const read = async () => (await fetch(`${node.url}/metrics`)).text();
    const persisted = (text: string) => Number(/^chat_messages_persisted_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    const before = persisted(await read());
    expect(await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'count me' })).toMatchObject({ ok: true });
    const text = await read();
    expect(persisted(text)).toBe(before + 1);
    expect(text).toMatch(/^chat_sockets_connected\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^chat_persist_batch_size_count/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total/m);
  });

  test('origin allowlist: foreign browser origins are refused over HTTP and at the handshake', async () => {
    const user = await registerUser(node);
    const foreign = await http<{ error: { code: string } }>(node.url, 'GET', '/api/me', {
      token: user.accessToken,
      headers: { origin: 'http://evil.example.test' },
    });
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    const allowed = await http(node.url, 'GET', '/api/me', { token: user.accessToken, headers: { origin: 'http://app.example.test' } });
    expect(allowed.status).toBe(200);
    const sameOrigin = await http(node.url, 'GET', '/api/me', { token: user.accessToken, headers: { origin: node.url } });
    expect(sameOrigin.status).toBe(200);

    const refused = io(node.url, {
      auth: { token: user.accessToken },
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example.test' },
      reconnection: false,
      forceNew: true,
    });
    const err = await new Promise<Error>((resolve) => refused.once('connect_error', resolve));
    refused.close();
    expect(err).toBeInstanceOf(Error);
    expect(refused.connected).toBe(false);
  });

  // Destructive, so last: breaks the schema under the running node.
  test('an internal error is answered INTERNAL with a generic message, never its details', async () => {
    const user = await registerUser(node);
    const roomId = await createRoom(node, user);
    const { socket } = await node.connect(user.accessToken);
    const sent = await socket.emitWithAck('message:send', { id: randomUUID(), roomId, content: 'before' });
    if (!sent.ok) throw new Error('send failed');
    await sql`alter table reactions rename to reactions_gone`.execute(node.app.db.primary);

    const ack = await socket.emitWithAck('reaction:add', { messageId: sent.message.id, emoji: '👍' });
    expect(ack).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'internal error' } });
    const history = await http<{ error: unknown }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: user.accessToken });
    expect(history).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
    expect(JSON.stringify(history.body)).not.toMatch(/reactions|relation|select|at /i);
    // The node stays up.
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
  });
});
