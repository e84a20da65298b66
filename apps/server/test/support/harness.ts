import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuthResponse, ClientToServerEvents, Hello, ServerToClientEvents } from '@chat/protocol';
import { createTestDatabase, type TestDatabase } from '@chat/testkit';
import type { FastifyInstance } from 'fastify';
import { io, type Socket } from 'socket.io-client';
import { buildApp, loadConfig, type Config } from '../../src/index';
import { sql } from '@chat/db';

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

export type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Every node of a data home signs its tokens with this secret (a test may sign one by hand). */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * Where a node keeps its data: a PGlite directory or a PostgreSQL database (primary + streaming replica)
 * of the test kit. Outlives the nodes started on it, so a test can stop a node and start another on the
 * same data.
 */
export interface DataHome {
  backend: Backend;
  config(extra?: Record<string, string>): Config;
  /**
   * Resolves once the replica has replayed every write so far (at once on PGlite). A test that reads
   * another user's fresh writes through a route served by the replica waits for this first.
   */
  replicaCaughtUp(): Promise<void>;
  dispose(): Promise<void>;
}

export async function createDataHome(backend: Backend): Promise<DataHome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chat-node-'));
  let pg: TestDatabase | undefined;
  if (backend === 'postgres') pg = await createTestDatabase();
  return {
    backend,
    config(extra = {}) {
      const env: Record<string, string> = {
        DATA_DIR: dir,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        PORT: '0',
        NODE_ID: `node-${randomBytes(3).toString('hex')}`,
        JWT_SECRET: TEST_JWT_SECRET,
        // Tests open many sockets from 127.0.0.1 at once, and files share one Redis: lift the handshake
        // budgets unless a test sets them (admission.*.test.ts does).
        ADMISSION_NODE_PER_SECOND: '1000000',
        ADMISSION_IP_PER_SECOND: '1000000',
        // Likewise the REST budgets: every request of a file comes from 127.0.0.1 (abuse.route-budgets sets its own).
        HTTP_BUDGET_MULTIPLIER: '1000000',
        ...(pg ? { DATABASE_URL: pg.url, DATABASE_REPLICA_URLS: pg.replicaUrl ?? '', DATABASE_POOL_MAX: '10' } : {}),
        ...extra,
      };
      const config = loadConfig(env);
      // Keep tests fast: the OWASP cost is exercised by the auth tests' timing elsewhere, not in every signup.
      return { ...config, webDistDir: undefined, argon2: { memoryCost: 4096, timeCost: 1, parallelism: 1 } } as Config;
    },
    replicaCaughtUp: async () => {
      await pg?.waitForReplicaCatchUp();
    },
    async dispose() {
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestNode {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Starts a node on `home`; `adjust` changes the configuration the harness derives (e.g. the argon2 cost). */
export async function startNode(home: Pick<DataHome, 'config'>, extra?: Record<string, string>, adjust: (config: Config) => Config = (c) => c): Promise<TestNode> {
  const app = await buildApp(adjust(home.config(extra)));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, close: () => app.close() };
}

let userCounter = 0;

export interface TestUser extends AuthResponse {
  password: string;
}

export async function http<T = unknown>(
  url: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url + route, {
    method,
    headers: {
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function registerUser(node: TestNode, prefix = 'u'): Promise<TestUser> {
  const username = `${prefix}_${++userCounter}_${randomBytes(3).toString('hex')}`;
  const password = 'correct horse battery';
  const res = await http<AuthResponse>(node.url, 'POST', '/api/auth/register', { body: { username, password } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password };
}

export async function createRoom(node: TestNode, owner: TestUser, type: 'public' | 'private' = 'public', name = 'room'): Promise<string> {
  const res = await http<{ room: { id: string } }>(node.url, 'POST', '/api/rooms', { token: owner.accessToken, body: { name, type } });
  if (res.status !== 201) throw new Error(`create room failed: ${res.status}`);
  return res.body.room.id;
}

export async function joinRoom(node: TestNode, user: TestUser, roomId: string): Promise<void> {
  const res = await http(node.url, 'POST', `/api/rooms/${roomId}/join`, { token: user.accessToken });
  if (res.status !== 200) throw new Error(`join failed: ${res.status}`);
}

/** A raw Socket.IO client (no SDK): for asserting the wire protocol itself. Resolves on `hello`. */
export async function connectRaw(node: TestNode, token: string, extra: Record<string, unknown> = {}): Promise<{ socket: RawSocket; hello: Hello }> {
  const socket: RawSocket = io(node.url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...extra });
  const hello = await new Promise<Hello>((resolve, reject) => {
    socket.once('hello', resolve);
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
  return { socket, hello };
}

/** Resolves with the next `event` payload that matches. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: RawSocket,
  event: E,
  match: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve) => {
    const listener = ((payload: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!match(payload)) return;
      socket.off(event, listener as never);
      resolve(payload);
    }) as never;
    socket.on(event, listener);
  });
}

/** Collects every `event` payload until read. */
export function collect<E extends keyof ServerToClientEvents>(socket: RawSocket, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const out: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => out.push(payload)) as never);
  return out;
}

/**
 * Holds a room's row locked from another transaction on the node's primary (as a slow batch of another node
 * would), so the node's next send batch for the room waits until `release()`; resolves once it is locked.
 */
export async function holdRoomRow(node: TestNode, roomId: string): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = node.app.db.primary.transaction().execute(async (trx) => {
    await sql`select 1 from rooms where id = ${roomId} for update`.execute(trx);
    locked();
    await released;
  });
  await Promise.race([isLocked, holder]);
  return {
    release: async () => {
      release();
      await holder;
    },
  };
}
