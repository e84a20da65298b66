import { randomBytes } from 'node:crypto';
import { ChatSocket, HttpApi, staticToken } from '@chat/client';

export interface BenchUser {
  userId: string;
  accessToken: string;
  roomId: string;
}

export interface Population {
  users: BenchUser[];
  roomIds: string[];
}

/**
 * Registers `userCount` users over HTTP and puts user i in room i mod `roomCount` (the first member of
 * each room creates it, the others join), so every room has the same number of members.
 */
export async function createPopulation(baseUrl: string, userCount: number, roomCount: number): Promise<Population> {
  const api = new HttpApi({ baseUrl });
  const tag = randomBytes(3).toString('hex');
  const registered = await mapLimit(Array.from({ length: userCount }, (_, i) => i), 8, (i) =>
    api.register({ username: `bench_${tag}_${i}`, password: 'bench password 123' }),
  );
  const roomIds: string[] = [];
  for (let r = 0; r < roomCount; r++) {
    const owner = registered[r]!;
    const { room } = await api.withAuth(staticToken(owner.accessToken)).createRoom({ name: `bench ${r}`, type: 'public' });
    roomIds.push(room.id);
  }
  await mapLimit(registered.slice(roomCount), 8, async (user, j) => {
    await api.withAuth(staticToken(user.accessToken)).joinRoom(roomIds[(j + roomCount) % roomCount]!);
  });
  const users = registered.map((u, i) => ({ userId: u.user.id, accessToken: u.accessToken, roomId: roomIds[i % roomCount]! }));
  return { users, roomIds };
}

/**
 * One SDK socket per user, resolved once each has finished its first sync (so start-up sync traffic is
 * not inside the measurement). Delivered receipts are off and an ack failure is final: the benchmark
 * counts errors rather than hiding them behind retries.
 */
export async function connectAll(baseUrl: string, users: BenchUser[], timeoutMs = 30_000): Promise<ChatSocket[]> {
  const sockets = users.map(
    (u) =>
      new ChatSocket({
        url: baseUrl,
        auth: staticToken(u.accessToken),
        forceNew: true,
        deliveredDebounceMs: 0,
        ack: { timeoutMs: 10_000, retries: 0 },
      }),
  );
  try {
    await Promise.all(sockets.map((s) => firstSync(s, timeoutMs)));
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }
  return sockets;
}

function firstSync(socket: ChatSocket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`socket not synced within ${timeoutMs} ms (state ${socket.connectionState})`));
    }, timeoutMs);
    const off = socket.on('synced', () => {
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
