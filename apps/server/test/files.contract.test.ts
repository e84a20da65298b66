import { randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { LIMITS, type Ack, type Attachment, type HttpErrorBody, type Message } from '@chat/protocol';
import { startS3Server, waitUntil, type S3Server } from '@chat/testkit';
import { createRoom, http, joinRoom, nextEvent, registerUser, type RawSocket, type TestUser } from './support/harness';
import { describeOnEachBackend, useNode } from './support/node-fixture';

/** The smallest valid PNG (1×1, transparent) and bytes that only claim to be one. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const NOT_PNG = Buffer.from('<html><script>alert(1)</script></html>');

describeOnEachBackend('files', {}, (node) => {
  const filesDir = () => (node.app.config.fileStore as { dir: string }).dir;
  /** Every file under the disk store's root (temporary ones included). */
  const storedBytes = (): string[] => {
    const out: string[] = [];
    const walk = (dir: string) => {
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(path.relative(filesDir(), p));
      }
    };
    walk(filesDir());
    return out;
  };
  const fileRows = async (roomId: string): Promise<number> => {
    const rows = await node.app.db.primary.selectFrom('files').select('id').where('room_id', '=', roomId).execute();
    return rows.length;
  };

  async function upload(user: TestUser, roomId: string, messageId: string, body: Buffer, type = 'image/png', name = 'dot.png') {
    const res = await fetch(`${node.url}/api/rooms/${roomId}/files?${new URLSearchParams({ messageId, name })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': type },
      body,
    });
    return { status: res.status, body: (await res.json()) as { file: Attachment } & HttpErrorBody };
  }
  const send = (socket: RawSocket, payload: { id: string; roomId: string; content: string; attachments?: string[] }) =>
    socket.timeout(10_000).emitWithAck('message:send', payload) as Promise<Ack<{ message: Message }>>;
  const link = (user: TestUser, fileId: string) => http<{ url: string; expiresAt: string } & HttpErrorBody>(node.url, 'GET', `/api/files/${fileId}/link`, { token: user.accessToken });

  test('an image is uploaded for a message, sent with it, seen by a member, served safely; a non-member gets 404', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(node, 'fa'), registerUser(node, 'fb'), registerUser(node, 'fc')]);
    const roomId = await createRoom(node, alice, 'private', 'pictures');
    await http(node.url, 'POST', `/api/rooms/${roomId}/invites`, { token: alice.accessToken, body: { userId: bob.user.id } });
    const { socket: a } = await node.connect(alice.accessToken);
    const { socket: b } = await node.connect(bob.accessToken);

    const messageId = randomUUID();
    const up = await upload(alice, roomId, messageId, PNG, 'image/png', 'a/../dot\u0000.png');
    expect(up.status).toBe(201);
    expect(up.body.file).toEqual({ id: expect.any(String), name: 'a_.._dot_.png', type: 'image/png', size: PNG.length });
    const file = up.body.file;
    // A second file for the same message, then left out of the send (removed in the composer): never shown.
    const dropped = await upload(alice, roomId, messageId, PNG, 'image/png', 'dropped.png');
    expect(dropped.status).toBe(201);
    // Before the message is sent only the uploader may see it.
    expect((await link(bob, file.id)).status).toBe(404);

    const arrived = nextEvent(b, 'message:new');
    const ack = await send(a, { id: messageId, roomId, content: 'a dot', attachments: [file.id] });
    expect(ack.ok && ack.message.attachments).toEqual([file]);
    expect((await arrived).attachments).toEqual([file]);
    const history = await http<{ messages: Message[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: bob.accessToken });
    expect(history.body.messages.map((m) => m.attachments)).toEqual([[file]]);
    const synced = (await b.timeout(10_000).emitWithAck('sync', { rooms: [{ roomId, afterSeq: 0 }] })) as Ack<{ rooms: { messages: Message[] }[] }>;
    expect(synced.ok && synced.rooms[0]!.messages[0]!.attachments).toEqual([file]);

    const given = await link(bob, file.id);
    expect(given.status).toBe(200);
    expect(given.body.url).toMatch(new RegExp(`^/api/files/${file.id}/content\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`));
    const content = await fetch(node.url + given.body.url);
    expect(content.status).toBe(200);
    expect(Buffer.from(await content.arrayBuffer()).equals(PNG)).toBe(true);
    expect(content.headers.get('content-type')).toBe('image/png');
    expect(content.headers.get('x-content-type-options')).toBe('nosniff');
    expect(content.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(content.headers.get('content-disposition')).toMatch(/^inline; filename="a_.._dot_.png"/);

    // Not a member: no link; a tampered or foreign signature: no bytes.
    expect((await link(carol, file.id)).status).toBe(404);
    const tampered = given.body.url.replace(/signature=(.)/, (_, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
    expect((await fetch(node.url + tampered)).status).toBe(403);
    const otherFile = given.body.url.replace(file.id, randomUUID());
    expect((await fetch(node.url + otherFile)).status).toBe(403);

    // Deleting the message hides the file: no new link, and the link already given stops working.
    expect(((await a.timeout(10_000).emitWithAck('message:delete', { id: messageId })) as Ack<object>).ok).toBe(true);
    expect((await link(bob, file.id)).status).toBe(404);
    expect((await fetch(node.url + given.body.url)).status).toBe(404);
    const after = await http<{ messages: Message[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: bob.accessToken });
    expect(after.body.messages[0]).toMatchObject({ deleted: true });
    expect(after.body.messages[0]!.attachments).toBeUndefined();
    expect((await link(bob, dropped.body.file.id)).status).toBe(404);
    for (const s of [a, b]) s.close();
  });

  test('a file that is not what it says, of a type not allowed, or over the limit is refused and leaves nothing', async () => {
    const dave = await registerUser(node, 'fd');
    const roomId = await createRoom(node, dave, 'public', 'refusals');
    const before = storedBytes();

    const lying = await upload(dave, roomId, randomUUID(), NOT_PNG, 'image/png');
    expect([lying.status, lying.body.error?.code]).toEqual([400, 'VALIDATION']);
    for (const type of ['text/html', 'image/svg+xml', 'application/javascript', '']) {
      const res = await upload(dave, roomId, randomUUID(), NOT_PNG, type, 'page.html');
      expect([type, res.status, res.body.error?.code]).toEqual([type, 400, 'VALIDATION']);
    }
    // Over the limit: answered from the Content-Length, before a byte is read.
    const tooLarge = await new Promise<{ status: number; body: HttpErrorBody }>((resolve, reject) => {
      const req = httpRequest(`${node.url}/api/rooms/${roomId}/files?messageId=${randomUUID()}&name=big.png`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dave.accessToken}`, 'content-type': 'image/png', 'content-length': String(LIMITS.fileMaxBytes + 1) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode!, body: JSON.parse(text) as HttpErrorBody });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write(PNG);
    });
    expect([tooLarge.status, tooLarge.body.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    // A file named by a send that is not the sender's upload for that message: nothing is sent.
    const { socket } = await node.connect(dave.accessToken);
    const refused = await send(socket, { id: randomUUID(), roomId, content: 'forged', attachments: [randomUUID()] });
    expect(refused.ok ? 'ok' : refused.error.code).toBe('VALIDATION');
    expect(await fileRows(roomId)).toBe(0);
    expect(storedBytes()).toEqual(before);
    const history = await http<{ messages: Message[] }>(node.url, 'GET', `/api/rooms/${roomId}/messages`, { token: dave.accessToken });
    expect(history.body.messages).toEqual([]);
    socket.close();
  });

  test('an upload cut off half-way leaves neither a row nor bytes', async () => {
    const erin = await registerUser(node, 'fe');
    const roomId = await createRoom(node, erin, 'public', 'cut');
    const before = storedBytes();
    const size = 1024 * 1024;
    const req = httpRequest(`${node.url}/api/rooms/${roomId}/files?messageId=${randomUUID()}&name=half.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${erin.accessToken}`, 'content-type': 'image/png', 'content-length': String(size) },
    });
    req.on('error', () => undefined);
    req.write(Buffer.concat([PNG, Buffer.alloc(256 * 1024)]));
    // The server has the row (pending) once it started taking the bytes; then the client goes away.
    await waitUntil(async () => (await fileRows(roomId)) === 1, { description: 'the upload under way' });
    req.destroy();
    await waitUntil(async () => (await fileRows(roomId)) === 0, { description: 'the cut upload forgotten' });
    expect(storedBytes()).toEqual(before);
  });

  test('files cannot be added to a message already sent, nor more than the limit to one message', async () => {
    const fred: TestUser = await registerUser(node, 'ff');
    const roomId = await createRoom(node, fred, 'public', 'late');
    const { socket } = await node.connect(fred.accessToken);
    const sentId = randomUUID();
    expect((await send(socket, { id: sentId, roomId, content: 'no file' })).ok).toBe(true);
    const late = await upload(fred, roomId, sentId, PNG);
    expect([late.status, late.body.error?.code]).toEqual([409, 'CONFLICT']);
    const many = randomUUID();
    for (let i = 0; i < LIMITS.attachmentsPerMessage; i++) expect((await upload(fred, roomId, many, PNG)).status).toBe(201);
    const extra = await upload(fred, roomId, many, PNG);
    expect([extra.status, extra.body.error?.code]).toEqual([409, 'CONFLICT']);
    socket.close();
  });

  test('a room that is not yours takes no uploads', async () => {
    const [gina, hal] = await Promise.all([registerUser(node, 'fg'), registerUser(node, 'fh')]);
    const priv = await createRoom(node, gina, 'private', 'closed');
    const pub = await createRoom(node, gina, 'public', 'open');
    expect((await upload(hal, priv, randomUUID(), PNG)).status).toBe(404);
    expect((await upload(hal, pub, randomUUID(), PNG)).status).toBe(403);
    await joinRoom(node, hal, pub);
    expect((await upload(hal, pub, randomUUID(), PNG)).status).toBe(201);
  });
});

describe('files on an S3-compatible store (s3rver, its own process)', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  }, 60_000);
  afterAll(async () => {
    await s3?.stop();
  });
  const node = useNode('postgres', {
    adjust: (config) => ({
      ...config,
      fileStore: { kind: 's3', endpoint: s3.endpoint, region: s3.region, bucket: 'chat-files', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    }),
  });

  test('the node creates its bucket, takes an upload into it, serves it to a member and refuses a lying one', async () => {
    const [alice, bob] = await Promise.all([registerUser(node, 'sa'), registerUser(node, 'sb')]);
    const roomId = await createRoom(node, alice, 'public', 'on s3');
    await joinRoom(node, bob, roomId);
    const messageId = randomUUID();
    const up = await fetch(`${node.url}/api/rooms/${roomId}/files?messageId=${messageId}&name=dot.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'image/png' },
      body: PNG,
    });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: Attachment };
    const lying = await fetch(`${node.url}/api/rooms/${roomId}/files?messageId=${messageId}&name=fake.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.accessToken}`, 'content-type': 'image/png' },
      body: NOT_PNG,
    });
    expect(lying.status).toBe(400);
    const { socket } = await node.connect(alice.accessToken);
    const ack = (await socket.timeout(10_000).emitWithAck('message:send', { id: messageId, roomId, content: 'on s3', attachments: [file.id] })) as Ack<{ message: Message }>;
    expect(ack.ok && ack.message.attachments).toEqual([file]);
    const link = await http<{ url: string }>(node.url, 'GET', `/api/files/${file.id}/link`, { token: bob.accessToken });
    const content = await fetch(node.url + link.body.url);
    expect([content.status, content.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await content.arrayBuffer()).equals(PNG)).toBe(true);
    const ready = await http<{ checks?: unknown }>(node.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    socket.close();
  });
});
