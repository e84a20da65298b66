/**
 * Artillery processor for the QA scenarios in artillery/ (smoke, chat, reconnect-storm), loaded through
 * artillery/processor.cjs (tsx compiles it). Artillery calls its exports as `function` steps; each
 * virtual user (VU) is a real `@chat/client` user: it signs up over HTTP, joins a room, connects its
 * socket (the SDK's jittered reconnection, RATE_LIMITED hints and sync included) and sends acknowledged
 * messages. What Artillery's Socket.IO engine cannot do — a token from the sign-up in the handshake,
 * sends acknowledged only after COMMIT and retried with the same id, delivery latency measured at the
 * other members — is done here and reported as Artillery metrics (`chat.*`), which `ensure` checks.
 *
 * Variables (config.variables, or `--variables '{…}'`): `rooms` (rooms created by the before hook,
 * shared by all VUs), `messages` (sends per VU), `sources` (0: connect from the default address; n:
 * each VU binds 127.0.K.1 with K in 1…n, so NGINX ip_hash spreads VUs over nodes and each address has
 * its own admission budget — loopback targets only), `connectTimeoutMs`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ChatSocket, HttpApi, staticToken, type ConnectionState } from '@chat/client';
import { agentFetch } from '../load/agent-fetch';
import { SourceAgents } from '../load/source-address';

/** The slice of Artillery's API a processor sees. */
interface VuContext {
  vars: Record<string, unknown>;
}
interface Events {
  emit(type: 'counter' | 'histogram' | 'rate', name: string, value?: number): void;
}

interface VuState {
  api: HttpApi;
  socket?: ChatSocket;
  userId: string;
  roomId: string;
  token: string;
  /** When the current outage began (the connection was lost), until the client is synced again. */
  lostAt?: number;
  sent: number;
  /** Ids of the messages shown, to count any shown twice (`chat.duplicates`). */
  seen: Set<string>;
}

const vus = new WeakMap<VuContext, VuState>();
const httpAgents = new SourceAgents('http');
const socketAgents = new SourceAgents('websocket');
const PASSWORD = 'artillery password 1';

const target = (context: VuContext): string => {
  const t = context.vars.target;
  if (typeof t !== 'string') throw new Error('no target: set config.target or --target');
  return t.replace(/\/+$/, '');
};
const numberVar = (context: VuContext, name: string, fallback: number): number => {
  const v = Number(context.vars[name]);
  return Number.isFinite(v) ? v : fallback;
};
const now = () => performance.timeOrigin + performance.now();

/** 127.0.K.1 for this VU, when `sources` asks for it and the target is on loopback. */
function sourceFor(context: VuContext): string | undefined {
  const sources = numberVar(context, 'sources', 0);
  if (sources <= 0 || !/^http:\/\/(127\.|localhost)/.test(target(context))) return undefined;
  return `127.0.${1 + Math.floor(Math.random() * Math.min(250, sources))}.1`;
}

function apiFor(context: VuContext, source: string | undefined): HttpApi {
  return new HttpApi({ baseUrl: target(context), ...(source ? { fetch: agentFetch(httpAgents.for(source)) } : {}) });
}

/** Sign-ups are limited per address (300/min): wait out RATE_LIMITED a few times. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const hint = (err as { code?: string; retryAfterMs?: number }).code === 'RATE_LIMITED' ? (err as { retryAfterMs?: number }).retryAfterMs : undefined;
      if (hint === undefined || attempt >= 10) throw err;
      await new Promise((resolve) => setTimeout(resolve, hint + Math.random() * 200));
    }
  }
}

/** before hook: one owner creates the rooms every VU will join (`rooms`, default 5). */
export async function createRooms(context: VuContext, events: Events): Promise<void> {
  const api = apiFor(context, undefined);
  const owner = await retrying(() => api.register({ username: `qa_owner_${randomBytes(5).toString('hex')}`, password: PASSWORD }));
  const authed = api.withAuth(staticToken(owner.accessToken));
  const roomIds: string[] = [];
  for (let i = 0; i < numberVar(context, 'rooms', 5); i++) {
    const { room } = await authed.createRoom({ name: `qa room ${i}`, type: 'public' });
    roomIds.push(room.id);
  }
  context.vars.roomIds = roomIds;
  events.emit('counter', 'chat.rooms_created', roomIds.length);
}

/** Signs a new user up and joins one of the rooms. */
export async function signUp(context: VuContext, events: Events): Promise<void> {
  const roomIds = context.vars.roomIds;
  if (!Array.isArray(roomIds) || roomIds.length === 0) throw new Error('no rooms: the before hook (createRooms) did not run');
  const source = sourceFor(context);
  const api = apiFor(context, source);
  const t0 = now();
  const auth = await retrying(() => api.register({ username: `qa_${randomBytes(6).toString('hex')}`, password: PASSWORD }));
  const roomId = String(roomIds[Math.floor(Math.random() * roomIds.length)]);
  await retrying(() => api.withAuth(staticToken(auth.accessToken)).joinRoom(roomId));
  events.emit('histogram', 'chat.signup_ms', now() - t0);
  context.vars.chatSource = source ?? '';
  vus.set(context, { api, userId: auth.user.id, roomId, token: auth.accessToken, sent: 0, seen: new Set() });
}

/**
 * Connects the VU's socket and waits for its first sync. From then on the socket reports every message
 * from another member (`chat.delivered`, `chat.delivery_ms`), every lost connection (`chat.disconnects`)
 * and the time until it was connected and synced again (`chat.recovery_ms`).
 */
export async function connect(context: VuContext, events: Events): Promise<void> {
  const vu = vus.get(context);
  if (!vu) throw new Error('connect before signUp');
  const source = typeof context.vars.chatSource === 'string' && context.vars.chatSource !== '' ? context.vars.chatSource : undefined;
  // Counters exist from the start, so `ensure` expressions over them never meet an undefined name.
  for (const name of ['chat.acked', 'chat.send_failed', 'chat.disconnects', 'chat.recovered', 'chat.connect_refused', 'chat.delivered', 'chat.duplicates']) {
    events.emit('counter', name, 0);
  }
  const socket = new ChatSocket({
    url: target(context),
    auth: staticToken(vu.token),
    forceNew: true,
    ...(source ? { agent: socketAgents.for(source) } : {}),
  });
  vu.socket = socket;
  socket.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    events.emit('counter', `chat.connect_error.${err.data?.code ?? 'TRANSPORT'}`, 1);
    if (err.data?.code === 'RATE_LIMITED') events.emit('counter', 'chat.connect_refused', 1);
  });
  socket.on('message', (m) => {
    if (vu.seen.has(m.id)) events.emit('counter', 'chat.duplicates', 1);
    vu.seen.add(m.id);
    if (m.senderId === vu.userId) return;
    const sentAt = Number(m.content.split(' ', 1)[0]);
    events.emit('counter', 'chat.delivered', 1);
    if (Number.isFinite(sentAt)) events.emit('histogram', 'chat.delivery_ms', now() - sentAt);
  });
  socket.on('connection', (state: ConnectionState) => {
    if (state === 'reconnecting' && vu.lostAt === undefined) {
      vu.lostAt = now();
      events.emit('counter', 'chat.disconnects', 1);
    }
  });
  socket.on('synced', () => {
    if (vu.lostAt === undefined || !socket.socket.connected) return;
    events.emit('histogram', 'chat.recovery_ms', now() - vu.lostAt);
    events.emit('counter', 'chat.recovered', 1);
    vu.lostAt = undefined;
  });

  const timeoutMs = numberVar(context, 'connectTimeoutMs', 60_000);
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`not connected and synced within ${timeoutMs} ms (state ${socket.connectionState})`));
    }, timeoutMs);
    const off = socket.on('synced', () => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
  events.emit('histogram', 'chat.connect_ms', now() - t0);
}

/**
 * One acknowledged `message:send`: the ack comes after COMMIT; the SDK retries a timeout or disconnect
 * with the same id (so a node restart meanwhile neither loses nor duplicates it). The content starts
 * with the send time, which the other members turn into delivery latency.
 */
export async function sendAcked(context: VuContext, events: Events): Promise<void> {
  const vu = vus.get(context);
  if (!vu?.socket) throw new Error('sendAcked before connect');
  const t0 = now();
  try {
    await vu.socket.sendMessage({ id: randomUUID(), roomId: vu.roomId, content: `${t0.toFixed(3)} artillery message ${vu.sent++}` });
    events.emit('histogram', 'chat.ack_ms', now() - t0);
    events.emit('counter', 'chat.acked', 1);
  } catch (err) {
    events.emit('counter', 'chat.send_failed', 1);
    events.emit('counter', `chat.send_failed.${(err as { code?: string }).code ?? 'unknown'}`, 1);
  }
}

/**
 * before hook of reconnect-storm.yml: at `stormAfterSeconds` from now, one call to the cluster's operator
 * API (`POST /ops/sockets/drop {scope: 'cluster'}`, with OPS_TOKEN from the environment) cuts every socket
 * of every node at the transport, as a crash or a network cut would. The hook runs once, in Artillery's
 * main process, so the storm happens once however many workers run the virtual users; the time is handed
 * to every VU (`stormAt`), which reports whether it was connected then and whether it was cut.
 */
export async function scheduleStorm(context: VuContext, events: Events): Promise<void> {
  const token = process.env.OPS_TOKEN;
  if (!token) throw new Error('reconnect-storm needs OPS_TOKEN in the environment (the nodes must have the same; docs/load.md)');
  const url = `${target(context)}/ops/sockets/drop`;
  // Fail now, not in the middle of the run, when the token or the route is wrong (an empty body is VALIDATION).
  const probe = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  if (probe.status !== 400) throw new Error(`the operator API refused the storm's token: ${probe.status} ${await probe.text()}`);
  const stormAt = Date.now() + numberVar(context, 'stormAfterSeconds', 90) * 1000;
  context.vars.stormAt = stormAt;
  events.emit('counter', 'chat.storms_scheduled', 1);
  setTimeout(() => {
    fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'cluster' }) })
      .then(async (res) => console.log(`storm: POST /ops/sockets/drop {scope: cluster} → ${res.status} ${await res.text()}`))
      .catch((err: unknown) => console.error(`storm: the drop failed: ${String(err)}`));
  }, stormAt - Date.now());
}

/**
 * Chats through the storm: an acknowledged send every `sendEverySeconds` (jittered) until `holdSeconds`
 * after the storm. Reports `chat.storm_connected` (connected when the storm came), `chat.storm_dropped`
 * (lost its connection within 5 s of it) and `chat.storm_recovered` with `chat.storm_recovery_ms` (connected
 * and synced again: the time to 100 % is its max).
 */
export async function chatThroughStorm(context: VuContext, events: Events): Promise<void> {
  const vu = vus.get(context);
  if (!vu?.socket) throw new Error('chatThroughStorm before connect');
  const socket = vu.socket;
  const stormAt = Number(context.vars.stormAt);
  if (!Number.isFinite(stormAt)) throw new Error('no stormAt: the before hook (scheduleStorm) did not run');
  for (const name of ['chat.storm_connected', 'chat.storm_dropped', 'chat.storm_recovered']) events.emit('counter', name, 0);
  let dropped: number | undefined;
  let recovered = false;
  const offConnection = socket.on('connection', (state: ConnectionState) => {
    const t = Date.now();
    if (state === 'reconnecting' && dropped === undefined && t >= stormAt - 1000 && t <= stormAt + 5000) {
      dropped = t;
      events.emit('counter', 'chat.storm_dropped', 1);
    }
  });
  const offSynced = socket.on('synced', () => {
    if (dropped === undefined || recovered || !socket.socket.connected) return;
    recovered = true;
    events.emit('histogram', 'chat.storm_recovery_ms', Date.now() - stormAt);
    events.emit('counter', 'chat.storm_recovered', 1);
  });
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  try {
    if (Date.now() < stormAt) {
      const everyMs = numberVar(context, 'sendEverySeconds', 6) * 1000;
      setTimeout(() => {
        if (socket.socket.connected) events.emit('counter', 'chat.storm_connected', 1);
      }, stormAt - Date.now() - 200);
      const end = stormAt + numberVar(context, 'holdSeconds', 60) * 1000;
      while (Date.now() < end) {
        await sendAcked(context, events);
        await wait(Math.min(end - Date.now(), everyMs * (0.5 + Math.random())));
      }
    } else {
      // Arrived after the storm: nothing to measure but the chat itself.
      events.emit('counter', 'chat.arrived_after_storm', 1);
    }
  } finally {
    offConnection();
    offSynced();
  }
}

export async function disconnect(context: VuContext): Promise<void> {
  const vu = vus.get(context);
  vu?.socket?.close();
  vus.delete(context);
}
