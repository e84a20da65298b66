import type { DB, Kysely, ReadonlyKysely } from '@chat/db';
import { asReadonly, compiledQuery, prepared, sql } from '@chat/db';
import type { Message, ReactionSummary, SyncRoomResult } from '@chat/protocol';
import { SingleFlight } from '../../infra/single-flight';
import { toMessage, type MessageRow } from '../../views/message-view';
import { attachmentsOf } from './message-attachments';
import { MembershipRefusal } from './membership-refusal';

type Reader = ReadonlyKysely<DB>;

/** The columns of a wire message (with its sender's display name); the query must join `users`. */
const MESSAGE_COLUMNS = [
  'messages.id',
  'messages.room_id',
  'messages.seq',
  'messages.sender_id',
  'users.display_name as sender_name',
  'messages.content',
  'messages.reply_to',
  'messages.created_at',
  'messages.edited_at',
  'messages.deleted_at',
] as const;

function messagesWithSender(db: Reader) {
  return db.selectFrom('messages').innerJoin('users', 'users.id', 'messages.sender_id').select(MESSAGE_COLUMNS);
}

export async function reactionsOf(db: Reader, messageIds: readonly string[]): Promise<Map<string, ReactionSummary[]>> {
  const out = new Map<string, ReactionSummary[]>();
  if (messageIds.length === 0) return out;
  const rows = await db
    .selectFrom('reactions')
    .select(['message_id', 'emoji', 'user_id'])
    .where('message_id', 'in', messageIds)
    .orderBy('created_at')
    .orderBy('user_id')
    .execute();
  for (const r of rows) {
    let list = out.get(r.message_id);
    if (!list) out.set(r.message_id, (list = []));
    let entry = list.find((e) => e.emoji === r.emoji);
    if (!entry) list.push((entry = { emoji: r.emoji, count: 0, userIds: [] }));
    entry.count++;
    entry.userIds.push(r.user_id);
  }
  return out;
}

/** Wire messages with their reactions and files (two queries for the whole list; none for tombstones). */
export async function toMessages(db: Reader, rows: MessageRow[]): Promise<Message[]> {
  const live = rows.filter((r) => !r.deleted_at);
  const [reactions, files] = await Promise.all([reactionsOf(db, live.map((r) => r.id)), attachmentsOf(db, live)]);
  return rows.map((r) => toMessage(r, reactions.get(r.id), files.get(r.id)));
}

export async function messageById(db: Reader, id: string): Promise<MessageRow | undefined> {
  return messagesWithSender(db).where('messages.id', '=', id).executeTakeFirst();
}

/** The room's last seq as `db` has it (0 for no such room): a replica may be behind the primary. */
export async function roomLastSeq(db: Reader, roomId: string): Promise<number> {
  return (await db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirst())?.last_seq ?? 0;
}

type HistoryQuery = { before?: number | undefined; after?: number | undefined; limit: number };
type HistoryPage = { messages: Message[]; hasMore: boolean };

/**
 * A history page in ascending seq. `before`/`after` are exclusive cursors; with neither, the newest page.
 * `hasMore` says whether more exist in the direction of paging (older for before/newest, newer for after).
 *
 * Identical pages requested at the same time on this node (same reader, room, cursors and limit) are
 * read once (single-flight, see infra/single-flight.ts); the result is shared, so callers must not mutate it.
 */
export function historyPage(db: Reader, roomId: string, q: HistoryQuery): Promise<HistoryPage> {
  return flightsOf(historyFlights, db, () => newHistoryFlight(db)).run({ roomId, ...q });
}

async function readHistoryPage(db: Reader, roomId: string, q: HistoryQuery): Promise<HistoryPage> {
  let query = messagesWithSender(db).where('messages.room_id', '=', roomId);
  if (q.before !== undefined) query = query.where('messages.seq', '<', q.before);
  if (q.after !== undefined) query = query.where('messages.seq', '>', q.after);
  const ascending = q.after !== undefined;
  const rows = await query
    .orderBy('messages.seq', ascending ? 'asc' : 'desc')
    .limit(q.limit + 1)
    .execute();
  const hasMore = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  if (!ascending) page.reverse();
  return { messages: await toMessages(db, page), hasMore };
}

type SyncCursor = { roomId: string; afterSeq: number };
export type SyncPage = { readonly rows: readonly MessageRow[]; readonly hasMore: boolean };

/**
 * Sync pages for several rooms: per room, the messages after its cursor, at most `limit`.
 *
 * Each (room, cursor, limit) is a single-flight key: after a node restart most members of a room come back
 * with the same cursor, so the herd reads each room page once. The keys gathered in one turn of the event
 * loop are read in one round trip, via a LATERAL join on the (room_id, seq) index.
 */
export async function syncPages(
  db: Kysely<DB>,
  cursors: readonly SyncCursor[],
  limit: number,
): Promise<ReadonlyMap<string, SyncPage>> {
  const flights = flightsOf(syncFlights, db, () => newSyncFlight(db));
  const pages = await Promise.all(cursors.map((c) => flights.run({ roomId: c.roomId, afterSeq: c.afterSeq, limit })));
  return new Map(cursors.map((c, i) => [c.roomId, pages[i]!]));
}

const NOTHING_NEWER: SyncPage = { rows: [], hasMore: false };

/** What one `sync` answer may carry, estimated as UTF-8 JSON (PROTOCOL.md `sync`). */
const SYNC_ANSWER_MAX_BYTES = 1024 * 1024;
/**
 * Rooms whose pages are read together: the most held in memory beyond the budget at once. The SDK asks for
 * 20 rooms per call, so a typical call is still one read.
 */
const SYNC_ROOMS_PER_READ = 20;

/**
 * The answer to `sync` for `userId`, per requested room (the first cursor given for a room counts): the
 * messages after its cursor — the member's delivered cursor when none is given — with their reactions,
 * `hasMore`, and the room's last seq. Reads the primary: it is the recovery path and must see everything
 * acknowledged.
 *
 * Bounded in bytes (`maxBytes`, estimated): rooms are read a few at a time, in the order asked, and once the
 * answer is full a room's page is cut short, and the rooms after it are answered with no messages; both say
 * `hasMore`, and the client asks again from where it got to. The first message always fits, so every call
 * makes progress.
 */
export async function syncRooms(
  db: Kysely<DB>,
  userId: string,
  requested: readonly { roomId: string; afterSeq?: number | undefined }[],
  limit: number,
  maxBytes: number = SYNC_ANSWER_MAX_BYTES,
): Promise<SyncRoomResult[]> {
  const roomIds = [...new Set(requested.map((r) => r.roomId))];
  const state = await flightsOf(cursorFlights, db, () => newCursorFlight(db)).run({ userId, roomIds });
  const byRoom = new Map(state.map((s) => [s.room_id, s]));
  // The caller checked the socket's channels; the member rows are the truth (a lost broadcast leaves a
  // channel behind).
  const stale = roomIds.find((roomId) => !byRoom.has(roomId));
  if (stale !== undefined) throw new MembershipRefusal('NOT_FOUND', 'no such room', stale);
  const cursors = roomIds.map((roomId) => {
    const asked = requested.find((r) => r.roomId === roomId)?.afterSeq;
    return { roomId, afterSeq: asked ?? byRoom.get(roomId)?.delivered_seq ?? 0 };
  });
  const answers: SyncRoomResult[] = [];
  let bytes = 0;
  for (let at = 0; at < cursors.length; at += SYNC_ROOMS_PER_READ) {
    const chunk = cursors.slice(at, at + SYNC_ROOMS_PER_READ);
    const lastSeqOf = (roomId: string) => byRoom.get(roomId)?.last_seq ?? 0;
    if (bytes >= maxBytes) {
      // Full: the rest of the rooms are not read at all.
      for (const c of chunk) answers.push({ roomId: c.roomId, messages: [], hasMore: lastSeqOf(c.roomId) > c.afterSeq, lastSeq: lastSeqOf(c.roomId) });
      continue;
    }
    // A room with nothing after its cursor (most rooms of a reconnecting client) needs no read: seq only
    // grows, and what commits after the cursors' read reaches the socket live (its channels were joined
    // at the handshake, before `sync`).
    const behind = chunk.filter((c) => lastSeqOf(c.roomId) > c.afterSeq);
    const pages = behind.length > 0 ? await syncPages(db, behind, limit) : new Map<string, SyncPage>();
    const rows = [...pages.values()].flatMap((p) => p.rows);
    const live = rows.filter((r) => !r.deleted_at);
    const [reactions, files] = await Promise.all([reactionsOf(asReadonly(db), live.map((r) => r.id)), attachmentsOf(asReadonly(db), live)]);
    for (const { roomId } of chunk) {
      const page = pages.get(roomId) ?? NOTHING_NEWER;
      const messages: Message[] = [];
      for (const row of page.rows) {
        const message = toMessage(row, reactions.get(row.id), files.get(row.id));
        const size = estimatedBytes(message);
        if (bytes + size > maxBytes && bytes > 0) break;
        bytes += size;
        messages.push(message);
      }
      answers.push({ roomId, messages, hasMore: page.hasMore || messages.length < page.rows.length, lastSeq: lastSeqOf(roomId) });
    }
  }
  return answers;
}

/** An upper bound of the message's UTF-8 JSON size: 3 bytes per UTF-16 unit of text, ids and dates at length. */
function estimatedBytes(m: Message): number {
  let reactions = 0;
  for (const r of m.reactions ?? []) reactions += 32 + 3 * r.emoji.length + r.userIds.reduce((n, id) => n + id.length + 3, 0);
  let files = 0;
  for (const f of m.attachments ?? []) files += 128 + 3 * f.name.length;
  return 256 + 3 * (m.content.length + m.senderName.length) + m.id.length + m.roomId.length + m.senderId.length + reactions + files;
}

// Every reconnection runs these two (the SDK's `sync` after `hello`). Named, one text for any number of rooms
// (arrays: `= any`, `unnest`, not growing `in (…)` or VALUES lists), and compiled once per node
// (docs/performance.md, "Reconnection's reads as named statements", "The handshake's queries compiled once").
// The cursors' read serves every `sync` that asked in the same turn of the event loop (a lone one: the first
// statement; several: the second, one (caller, user, room) triple per row): a herd's reconnections come several to
// a turn (docs/performance.md, "The herd's session reads in one query"). In the second each lookup is a LATERAL
// subquery with LIMIT 1, so its generic plan stays two key lookups per triple: as plain joins it was planned as a
// hash join over a scan of every room (EXPLAIN, 2026-12-07).
const syncCursorsQuery = compiledQuery(2, (db, userId: string, roomIds: string[]) =>
  db
    .selectFrom('room_members as m')
    .innerJoin('rooms as r', 'r.id', 'm.room_id')
    .modifyFront(prepared('chat_sync_cursors'))
    .select(['m.room_id', 'm.delivered_seq', 'r.last_seq'])
    .where('m.user_id', '=', userId)
    .where(sql<boolean>`m.room_id = any(${roomIds}::text[])`)
    .where('m.left_at', 'is', null),
);

const syncCursorsManyQuery = compiledQuery(3, (_db, callers: number[], userIds: string[], roomIds: string[]) =>
  sql<SyncCursorRow & { q: number }>`/* prepared: chat_sync_cursors_many */
    select q.caller as q, m.room_id, m.delivered_seq, r.last_seq
    from unnest(${callers}::int[], ${userIds}::text[], ${roomIds}::text[]) as q(caller, user_id, room_id)
    cross join lateral (
      select s.room_id, s.delivered_seq from room_members s
      where s.room_id = q.room_id and s.user_id = q.user_id and s.left_at is null limit 1
    ) m
    cross join lateral (select s.last_seq from rooms s where s.id = m.room_id limit 1) r`,
);

interface SyncCursorRow {
  room_id: string;
  delivered_seq: number;
  last_seq: number;
}

const syncPagesQuery = compiledQuery(
  3,
  (_db, roomIds: string[], afterSeqs: number[], perRoom: number) => sql<MessageRow & { q: number }>`/* prepared: chat_sync_pages */
    select (q.i - 1)::int as q, m.id, m.room_id, m.seq, m.sender_id, u.display_name as sender_name, m.content, m.reply_to,
           m.created_at, m.edited_at, m.deleted_at
    from unnest(${roomIds}::text[], ${afterSeqs}::bigint[]) with ordinality as q(room_id, after_seq, i)
    cross join lateral (
      select * from messages x where x.room_id = q.room_id and x.seq > q.after_seq order by x.seq limit ${perRoom}
    ) m
    join users u on u.id = m.sender_id
    order by q.i, m.seq`,
);

async function readSyncPages(db: Kysely<DB>, cursors: readonly SyncCursor[], limit: number): Promise<SyncPage[]> {
  if (cursors.length === 0) return [];
  const rows = await syncPagesQuery(
    db,
    cursors.map((c) => c.roomId),
    cursors.map((c) => c.afterSeq),
    limit + 1,
  );
  const out = cursors.map(() => ({ rows: [] as MessageRow[], hasMore: false }));
  for (const { q, ...row } of rows) {
    const entry = out[q]!;
    if (entry.rows.length < limit) entry.rows.push({ ...row, seq: Number(row.seq) });
    else entry.hasMore = true;
  }
  return out;
}

// One flight table per database handle (a node's primary, or a replica): a key read on one handle says
// nothing about another, and tests run several nodes in one process.
const historyFlights = new WeakMap<object, SingleFlight<HistoryQuery & { roomId: string }, HistoryPage>>();
const syncFlights = new WeakMap<object, SingleFlight<SyncCursor & { limit: number }, SyncPage>>();
const cursorFlights = new WeakMap<object, SingleFlight<{ userId: string; roomIds: string[] }, SyncCursorRow[]>>();

function flightsOf<F>(table: WeakMap<object, F>, db: object, create: () => F): F {
  let flights = table.get(db);
  if (!flights) table.set(db, (flights = create()));
  return flights;
}

function newHistoryFlight(db: Reader) {
  return new SingleFlight<HistoryQuery & { roomId: string }, HistoryPage>(
    // Each page is its own query; a failure fails only its own callers.
    (batch) => Promise.all(batch.map(({ roomId, ...q }) => readHistoryPage(db, roomId, q).catch(asError))),
    { keyOf: (p) => JSON.stringify([p.roomId, p.before ?? null, p.after ?? null, p.limit]) },
  );
}

/** A member's current rooms among those asked, with their delivered cursor and last seq; `sync`s of one turn together. */
function newCursorFlight(db: Kysely<DB>) {
  return new SingleFlight<{ userId: string; roomIds: string[] }, SyncCursorRow[]>(
    async (batch) => {
      if (batch.length === 1) return [await syncCursorsQuery(db, batch[0]!.userId, batch[0]!.roomIds)];
      const callers: number[] = [];
      const userIds: string[] = [];
      const roomIds: string[] = [];
      batch.forEach(({ userId, roomIds: rooms }, caller) => {
        for (const roomId of rooms) {
          callers.push(caller);
          userIds.push(userId);
          roomIds.push(roomId);
        }
      });
      const out = batch.map((): SyncCursorRow[] => []);
      for (const { q, ...row } of await syncCursorsManyQuery(db, callers, userIds, roomIds)) out[q]!.push(row);
      return out;
    },
    { keyOf: ({ userId, roomIds }) => JSON.stringify([userId, roomIds]), maxBatch: 100 },
  );
}

function newSyncFlight(db: Kysely<DB>) {
  return new SingleFlight<SyncCursor & { limit: number }, SyncPage>(
    async (batch) => {
      // One query per distinct limit (in practice one: clients page with the default).
      const out: SyncPage[] = new Array<SyncPage>(batch.length);
      const byLimit = new Map<number, number[]>();
      batch.forEach((p, i) => byLimit.set(p.limit, [...(byLimit.get(p.limit) ?? []), i]));
      for (const [limit, indexes] of byLimit) {
        const pages = await readSyncPages(db, indexes.map((i) => batch[i]!), limit);
        indexes.forEach((i, k) => (out[i] = pages[k]!));
      }
      return out;
    },
    // Bounds the VALUES list and the result of one query (at most 51 rows per key).
    { keyOf: (p) => JSON.stringify([p.roomId, p.afterSeq, p.limit]), maxBatch: 200 },
  );
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export async function searchMessages(
  db: Reader,
  userId: string,
  q: string,
  roomId: string | undefined,
): Promise<{ message: Message; highlight: string }[]> {
  let query = db
    .selectFrom('messages')
    .innerJoin('room_members as rm', (j) => j.onRef('rm.room_id', '=', 'messages.room_id').on('rm.user_id', '=', userId).on('rm.left_at', 'is', null))
    .innerJoin('users', 'users.id', 'messages.sender_id')
    .select([
      ...MESSAGE_COLUMNS,
      sql<string>`ts_headline('simple', messages.content, plainto_tsquery('simple', ${q}), 'StartSel=<<, StopSel=>>, MaxFragments=2')`.as(
        'highlight',
      ),
    ])
    .where(sql<boolean>`to_tsvector('simple', messages.content) @@ plainto_tsquery('simple', ${q})`)
    .where('messages.deleted_at', 'is', null);
  if (roomId !== undefined) query = query.where('messages.room_id', '=', roomId);
  const rows = await query.orderBy('messages.created_at', 'desc').limit(50).execute();
  const messages = await toMessages(db, rows);
  return rows.map((r, i) => ({ message: messages[i]!, highlight: r.highlight }));
}
