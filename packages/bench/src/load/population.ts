import { randomBytes, randomUUID } from 'node:crypto';
import { ChatError } from '@chat/protocol';
import { HttpApi, staticToken } from '@chat/client';
import { ceilingToken } from '../ceiling/ceiling-node';
import { agentFetch } from './agent-fetch';
import { SourceAgents, sourceAddress } from './source-address';

/** One simulated user: who they are, the room they chat in, and the host they pretend to be. */
export interface LoadUser {
  index: number;
  userId: string;
  accessToken: string;
  roomId: string;
  /** 127.0.K.1 */
  source: string;
}

export interface PopulationOptions {
  /** NGINX or a node. */
  url: string;
  users: number;
  /** Members per room; the last room may be smaller. */
  roomSize: number;
  /** Distinct source addresses (1…250). */
  sources: number;
  /** Sign-ups in flight: each costs an Argon2id hash (~30 ms of a core) on some node. */
  concurrency?: number;
  log(message: string): void;
}

/** Keeps going through RATE_LIMITED (registration is limited per address) and brief UNAVAILABLE answers. */
async function withRetries<T>(what: string, fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retryable = err instanceof ChatError && (err.code === 'RATE_LIMITED' || err.code === 'UNAVAILABLE');
      if (!retryable || attempt >= attempts) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      const wait = err.retryAfterMs ?? Math.min(5000, 100 * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * 100));
    }
  }
}

/**
 * Registers `users` users over HTTP (each from its own source address, so sign-ups spread over nodes and
 * per-address limits) and puts consecutive users in the same room: user i in room ⌊i / roomSize⌋. With
 * source address i mod sources, the members of a room come from different addresses and so, through
 * `ip_hash`, sit on different nodes: room traffic crosses nodes as it would in production.
 */
export async function createLoadPopulation(opts: PopulationOptions): Promise<LoadUser[]> {
  const agents = new SourceAgents('http');
  const apis = new Map<string, HttpApi>();
  const apiFor = (source: string) => {
    let api = apis.get(source);
    if (!api) apis.set(source, (api = new HttpApi({ baseUrl: opts.url, fetch: agentFetch(agents.for(source)) })));
    return api;
  };
  const tag = randomBytes(3).toString('hex');
  const started = Date.now();
  let done = 0;
  try {
    const registered = await mapLimit(opts.users, opts.concurrency ?? 16, async (i) => {
      const source = sourceAddress(i, opts.sources);
      const auth = await withRetries(`register user ${i}`, () =>
        apiFor(source).register({ username: `load_${tag}_${i}`, password: 'load test password' }),
      );
      done++;
      if (done % 1000 === 0) opts.log(`registered ${done}/${opts.users} users (${Math.round(done / ((Date.now() - started) / 1000))}/s)`);
      return { index: i, source, userId: auth.user.id, accessToken: auth.accessToken };
    });

    const roomCount = Math.ceil(opts.users / opts.roomSize);
    const roomIds = await mapLimit(roomCount, 8, async (r) => {
      const owner = registered[r * opts.roomSize]!;
      const { room } = await withRetries(`create room ${r}`, () =>
        apiFor(owner.source).withAuth(staticToken(owner.accessToken)).createRoom({ name: `load ${tag} ${r}`, type: 'public' }),
      );
      return room.id;
    });
    await mapLimit(opts.users, 32, async (i) => {
      if (i % opts.roomSize === 0) return; // the owner is a member already
      const user = registered[i]!;
      await withRetries(`join user ${i}`, () =>
        apiFor(user.source).withAuth(staticToken(user.accessToken)).joinRoom(roomIds[Math.floor(i / opts.roomSize)]!),
      );
    });
    opts.log(`population ready: ${opts.users} users in ${roomCount} rooms of ${opts.roomSize}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return registered.map((u) => ({ ...u, roomId: roomIds[Math.floor(u.index / opts.roomSize)]! }));
  } finally {
    agents.destroy();
  }
}

/** `fn(0…count-1)` with at most `limit` in flight, results in order. */
async function mapLimit<R>(count: number, limit: number, fn: (index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

/**
 * The same population for the ceiling (src/ceiling/ceiling-node.ts), which has no accounts: ids are made up
 * here and the "token" just carries the user and their room, which the ceiling trusts.
 */
export function syntheticPopulation(opts: Pick<PopulationOptions, 'users' | 'roomSize' | 'sources'>): LoadUser[] {
  const roomIds = Array.from({ length: Math.ceil(opts.users / opts.roomSize) }, () => randomUUID());
  return Array.from({ length: opts.users }, (_, index) => {
    const userId = randomUUID();
    const roomId = roomIds[Math.floor(index / opts.roomSize)]!;
    return { index, userId, roomId, source: sourceAddress(index, opts.sources), accessToken: ceilingToken({ userId, roomId, name: `user ${index}` }) };
  });
}
