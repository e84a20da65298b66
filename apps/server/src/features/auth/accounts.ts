import { randomUUID } from 'node:crypto';
import { compiledQuery, prepared, sql, type Database, type DB, type Kysely } from '@chat/db';
import { ChatError, type AuthResponse, type TokensResponse } from '@chat/protocol';
import type { PasswordHasher } from './passwords';
import { Tokens } from './tokens';
import { SingleFlight } from '../../infra/single-flight';
import { currentRoomsOf } from '../../membership/member-queries';
import { toUser } from '../../views/user-view';

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === UNIQUE_VIOLATION;
}

/**
 * Accounts and session families: register, login, refresh with rotation and reuse detection, logout.
 * Every write goes to the primary.
 */
/**
 * How long after a rotation the token it replaced still answers with the current pair: two tabs that
 * read the same pair, or a client whose refresh answer was lost, must not sign the user out.
 */
const REFRESH_GRACE_MS = 30_000;

/**
 * The handshake's one read (see `sessionAtConnect`), for every session whose socket asked in the same turn of the
 * event loop. Named (prepared once per connection): planning this join was two thirds of its time in PostgreSQL,
 * and a reconnecting herd runs it once per socket; compiled once per node: building it was most of Kysely's share
 * of a handshake (docs/performance.md, "Reconnection's reads as named statements", "The handshake's queries
 * compiled once"); and for many sessions at once: in a herd a node takes several handshakes per turn, and each
 * query is a write to PostgreSQL's socket and a backend woken (docs/performance.md, "The herd's session reads
 * in one query").
 */
function selectSessionsAtConnect(db: Kysely<DB>) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select((eb) => ['sessions.id', 'sessions.revoked_at', 'sessions.expires_at', 'users.display_name', currentRoomsOf(eb.ref('sessions.user_id')).as('rooms')]);
}

// A lone handshake in its turn (the common case outside a herd) keeps the one-key statement: a key lookup by
// `=` costs PostgreSQL less than by `= any` of an array (docs/performance.md, "The herd's session reads in one query").
const sessionAtConnectQuery = compiledQuery(1, (db, sessionId: string) =>
  selectSessionsAtConnect(db).modifyFront(prepared('chat_session_at_connect')).where('sessions.id', '=', sessionId),
);
const sessionsAtConnectQuery = compiledQuery(1, (db, sessionIds: string[]) =>
  selectSessionsAtConnect(db).modifyFront(prepared('chat_sessions_at_connect')).where(sql<boolean>`sessions.id = any(${sessionIds}::text[])`),
);

type SessionAtConnectRow = Awaited<ReturnType<typeof sessionsAtConnectQuery>>[number];

/** Sessions read in one query at most; a bigger herd in one turn is read in several. */
const SESSIONS_PER_READ = 200;

export class Accounts {
  /**
   * The handshakes' session reads gathered per turn (a caller never joins a read already sent: a session revoked
   * before its socket asked is seen revoked).
   */
  private readonly sessionReads = new SingleFlight<string, SessionAtConnectRow | undefined>(
    async (sessionIds) => {
      const rows =
        sessionIds.length === 1
          ? await sessionAtConnectQuery(this.db.primary, sessionIds[0]!)
          : await sessionsAtConnectQuery(this.db.primary, [...sessionIds]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return sessionIds.map((id) => byId.get(id));
    },
    { keyOf: (sessionId) => sessionId, maxBatch: SESSIONS_PER_READ },
  );

  constructor(
    private readonly db: Database,
    private readonly tokens: Tokens,
    private readonly passwords: PasswordHasher,
    private readonly refreshTtlDays: number,
  ) {}

  async register(input: { username: string; password: string; displayName?: string | undefined }): Promise<AuthResponse> {
    // The name first: a taken name must not cost a hash (a flood of sign-ups for taken names would queue
    // every honest sign-in behind them). The unique index still decides a race.
    const taken = await this.db.primary.selectFrom('users').select('id').where('username', '=', input.username).executeTakeFirst();
    if (taken) throw new ChatError('CONFLICT', 'username taken');
    const passwordHash = await this.passwords.hash(input.password);
    const id = randomUUID();
    try {
      const row = await this.db.primary
        .insertInto('users')
        .values({ id, username: input.username, display_name: input.displayName?.trim() || input.username, password_hash: passwordHash })
        .returning(['id', 'username', 'display_name', 'created_at'])
        .executeTakeFirstOrThrow();
      return { user: toUser(row), ...(await this.openSession(row.id, row.username, row.display_name)) };
    } catch (err) {
      if (isUniqueViolation(err)) throw new ChatError('CONFLICT', 'username taken');
      throw err;
    }
  }

  async login(username: string, password: string): Promise<AuthResponse | undefined> {
    const row = await this.db.primary
      .selectFrom('users')
      .select(['id', 'username', 'display_name', 'created_at', 'avatar_id', 'password_hash', 'disabled_at'])
      .where('username', '=', username)
      .executeTakeFirst();
    if (!row) {
      await this.passwords.verifyAgainstDummy(password);
      return undefined;
    }
    if (!(await this.passwords.verify(row.password_hash, password))) return undefined;
    // Only to the one who knows the password: the account exists and an operator disabled it.
    if (row.disabled_at !== null) throw new ChatError('FORBIDDEN', 'this account is disabled');
    return { user: toUser(row), ...(await this.openSession(row.id, row.username, row.display_name)) };
  }

  /**
   * Rotates the refresh token. Presenting an authentic token of an older generation is reuse: the whole
   * family is revoked and `revokedSessionId` tells the caller whose sockets to disconnect.
   */
  async refresh(refreshToken: string): Promise<{ tokens?: TokensResponse; revokedSessionId?: string; withinGrace?: boolean }> {
    const parsed = this.tokens.parseRefresh(refreshToken);
    if (!parsed) return {};
    return this.db.primary.transaction().execute(async (trx) => {
      const session = await trx
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['sessions.id', 'sessions.generation', 'sessions.revoked_at', 'sessions.expires_at', 'sessions.last_used_at', 'users.id as user_id', 'users.username', 'users.display_name'])
        .where('sessions.id', '=', parsed.sessionId)
        .forUpdate()
        .executeTakeFirst();
      if (!session || session.revoked_at !== null || session.expires_at.getTime() < Date.now()) return {};
      // The token rotated away moments ago: another tab (or a retry after a lost answer) refreshing with
      // the pair it read before the rotation. It gets the current pair, not a revocation (PROTOCOL.md).
      if (parsed.generation === session.generation - 1 && Date.now() - session.last_used_at.getTime() <= REFRESH_GRACE_MS) {
        return {
          tokens: {
            accessToken: this.tokens.issueAccess({ userId: session.user_id, sessionId: session.id, username: session.username, displayName: session.display_name }),
            refreshToken: this.tokens.issueRefresh(session.id, session.generation),
          },
          withinGrace: true,
        };
      }
      if (parsed.generation < session.generation) {
        await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', session.id).execute();
        return { revokedSessionId: session.id };
      }
      if (parsed.generation !== session.generation) return {};
      const generation = session.generation + 1;
      const next = this.tokens.issueRefresh(session.id, generation);
      await trx
        .updateTable('sessions')
        .set({ generation, refresh_token_hash: Tokens.fingerprint(next), last_used_at: new Date() })
        .where('id', '=', session.id)
        .execute();
      const accessToken = this.tokens.issueAccess({
        userId: session.user_id,
        sessionId: session.id,
        username: session.username,
        displayName: session.display_name,
      });
      return { tokens: { accessToken, refreshToken: next } };
    });
  }

  /** Revokes every live session of the user but `keep`; returns the ids revoked. */
  async revokeSessions(userId: string, keep?: string): Promise<string[]> {
    let query = this.db.primary.updateTable('sessions').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null);
    if (keep !== undefined) query = query.where('id', '!=', keep);
    const rows = await query.returning('id').execute();
    return rows.map((r) => r.id);
  }

  /** The user's id and whether they are a site admin; undefined for an unknown name. */
  async findByUsername(username: string): Promise<{ id: string; username: string; isAdmin: boolean; disabled: boolean } | undefined> {
    const row = await this.db.primary.selectFrom('users').select(['id', 'username', 'is_admin', 'disabled_at']).where('username', '=', username).executeTakeFirst();
    return row && { id: row.id, username: row.username, isAdmin: row.is_admin, disabled: row.disabled_at !== null };
  }

  async isAdmin(userId: string): Promise<boolean> {
    const row = await this.db.primary.selectFrom('users').select('is_admin').where('id', '=', userId).executeTakeFirst();
    return row?.is_admin === true;
  }

  /** Makes the user a site admin (true) or not (false). */
  async setAdmin(userId: string, isAdmin: boolean): Promise<void> {
    await this.db.primary.updateTable('users').set({ is_admin: isAdmin }).where('id', '=', userId).execute();
  }

  /**
   * Disables the account and revokes every session in one transaction (a refresh racing it either ends
   * before, and its new session is revoked here, or after, and finds its session revoked); or enables it.
   * Returns the sessions revoked.
   */
  async setDisabled(userId: string, disabled: boolean): Promise<string[]> {
    return this.db.primary.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ disabled_at: disabled ? new Date() : null }).where('id', '=', userId).execute();
      if (!disabled) return [];
      const rows = await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null).returning('id').execute();
      return rows.map((r) => r.id);
    });
  }

  /** Sets a new password after checking the current one; false (nothing changed) when it is wrong. */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<boolean> {
    const row = await this.db.primary.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
    if (!row || !(await this.passwords.verify(row.password_hash, currentPassword))) return false;
    const passwordHash = await this.passwords.hash(newPassword);
    await this.db.primary.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    return true;
  }

  /** Revokes the session a refresh token belongs to (any generation); returns its id, or undefined. */
  async logout(refreshToken: string): Promise<string | undefined> {
    const parsed = this.tokens.parseRefresh(refreshToken);
    if (!parsed) return undefined;
    const res = await this.db.primary
      .updateTable('sessions')
      .set({ revoked_at: new Date() })
      .where('id', '=', parsed.sessionId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return res.numUpdatedRows > 0n ? parsed.sessionId : undefined;
  }

  /**
   * At a socket's handshake: when the session is live (not revoked, not expired), the user's display name as
   * it is now — a socket takes its name from here, not from the access token, which may predate a rename —
   * and the rooms they belong to; else undefined. One query for both (the handshake's only database read).
   */
  async sessionAtConnect(sessionId: string): Promise<{ displayName: string; rooms: { roomId: string; lastSeq: number }[] } | undefined> {
    const row = await this.sessionReads.run(sessionId);
    if (!row || row.revoked_at !== null || row.expires_at.getTime() <= Date.now()) return undefined;
    return { displayName: row.display_name, rooms: row.rooms };
  }

  private async openSession(userId: string, username: string, displayName: string): Promise<TokensResponse> {
    const sessionId = this.tokens.newSessionId();
    const refreshToken = this.tokens.issueRefresh(sessionId, 0);
    await this.db.primary
      .insertInto('sessions')
      .values({
        id: sessionId,
        user_id: userId,
        refresh_token_hash: Tokens.fingerprint(refreshToken),
        generation: 0,
        expires_at: new Date(Date.now() + this.refreshTtlDays * 86_400_000),
      })
      .execute();
    return { accessToken: this.tokens.issueAccess({ userId, sessionId, username, displayName }), refreshToken };
  }
}
