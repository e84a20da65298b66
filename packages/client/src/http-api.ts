import {
  AuditLogResponseSchema,
  AuthResponseSchema,
  ChatError,
  DiscoverResponseSchema,
  HistoryResponseSchema,
  HttpErrorBodySchema,
  JoinRequestResponseSchema,
  JoinRequestsResponseSchema,
  MeResponseSchema,
  MembersResponseSchema,
  RoomListResponseSchema,
  RoomResponseSchema,
  SearchResponseSchema,
  TokensResponseSchema,
  UserSearchResponseSchema,
  type AuthResponse,
  type CreateRoomBody,
  type DiscoverResponse,
  type ErrorCode,
  type HistoryResponse,
  type JoinRequestResponse,
  type LoginBody,
  type MeResponse,
  type MembersResponse,
  type RegisterBody,
  type Role,
  type RoomListResponse,
  type RoomResponse,
  type SearchResponse,
  type TokensResponse,
  type UserSearchResponse,
} from '@chat/protocol';
import { chatErrorFrom } from './chat-errors';
import type { TokenProvider } from './tokens';

/** Success bodies without an exported type in the protocol are typed from their schemas. */
export type JoinRequestsResponse = ReturnType<typeof JoinRequestsResponseSchema.parse>;
export type AuditLogResponse = ReturnType<typeof AuditLogResponseSchema.parse>;
/** `POST /rooms/:id/join`: a public room is joined at once, a private one answers a pending request. */
export type JoinResult = RoomResponse | JoinRequestResponse;

export interface HttpApiOptions {
  /** Origin (and optional path prefix) of the server or NGINX, without `/api`. */
  baseUrl: string;
  /** Defaults to the global `fetch` (browsers, Node 20+). */
  fetch?: typeof fetch;
  /** Supplies `Authorization: Bearer`; without it, only the account routes work. */
  auth?: TokenProvider;
}

interface Parser<T> {
  parse(value: unknown): T;
}

interface RequestSpec<T> {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  schema?: Parser<T>;
  /** Account routes carry no bearer token and are never retried after a refresh. */
  anonymous?: boolean;
}

// Statuses that carry no protocol body (NGINX pages, gateways) still map onto the protocol's codes.
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'UNAVAILABLE',
};

const seg = encodeURIComponent;

/** Every route of PROTOCOL.md's HTTP API, typed by the protocol and checked against its response schemas. */
export class HttpApi {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly auth: TokenProvider | undefined;

  constructor(opts: HttpApiOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    // Bound so a browser does not throw "Illegal invocation" when fetch is called as a method.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.auth = opts.auth;
  }

  /** The same API authenticated by `auth` (typically a `Session` built on this anonymous instance). */
  withAuth(auth: TokenProvider): HttpApi {
    return new HttpApi({ baseUrl: this.baseUrl, fetch: this.fetchFn, auth });
  }

  // Accounts.
  register(body: RegisterBody): Promise<AuthResponse> {
    return this.request('POST', '/auth/register', { body, schema: AuthResponseSchema, anonymous: true });
  }
  login(body: LoginBody): Promise<AuthResponse> {
    return this.request('POST', '/auth/login', { body, schema: AuthResponseSchema, anonymous: true });
  }
  refresh(refreshToken: string): Promise<TokensResponse> {
    return this.request('POST', '/auth/refresh', { body: { refreshToken }, schema: TokensResponseSchema, anonymous: true });
  }
  logout(refreshToken: string): Promise<void> {
    return this.request('POST', '/auth/logout', { body: { refreshToken }, anonymous: true });
  }
  me(): Promise<MeResponse> {
    return this.request('GET', '/me', { schema: MeResponseSchema });
  }
  searchUsers(query: string): Promise<UserSearchResponse> {
    return this.request('GET', '/users', { query: { query }, schema: UserSearchResponseSchema });
  }

  // Rooms.
  listRooms(): Promise<RoomListResponse> {
    return this.request('GET', '/rooms', { schema: RoomListResponseSchema });
  }
  createRoom(body: CreateRoomBody): Promise<RoomResponse> {
    return this.request('POST', '/rooms', { body, schema: RoomResponseSchema });
  }
  directRoom(userId: string): Promise<RoomResponse> {
    return this.request('POST', '/rooms/direct', { body: { userId }, schema: RoomResponseSchema });
  }
  discoverRooms(query = ''): Promise<DiscoverResponse> {
    return this.request('GET', '/rooms/discover', { query: { query }, schema: DiscoverResponseSchema });
  }
  joinRoom(roomId: string): Promise<JoinResult> {
    const schema: Parser<JoinResult> = {
      parse: (v) => (typeof v === 'object' && v !== null && 'joinRequest' in v ? JoinRequestResponseSchema.parse(v) : RoomResponseSchema.parse(v)),
    };
    return this.request('POST', `/rooms/${seg(roomId)}/join`, { schema });
  }
  leaveRoom(roomId: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/leave`, {});
  }
  members(roomId: string): Promise<MembersResponse> {
    return this.request('GET', `/rooms/${seg(roomId)}/members`, { schema: MembersResponseSchema });
  }
  history(roomId: string, page: { before?: number; after?: number; limit?: number } = {}): Promise<HistoryResponse> {
    return this.request('GET', `/rooms/${seg(roomId)}/messages`, { query: page, schema: HistoryResponseSchema });
  }
  search(q: string, roomId?: string): Promise<SearchResponse> {
    return this.request('GET', '/search', { query: { q, roomId }, schema: SearchResponseSchema });
  }

  // Moderation (owner/admin).
  invite(roomId: string, userId: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/invites`, { body: { userId } });
  }
  joinRequests(roomId: string): Promise<JoinRequestsResponse> {
    return this.request('GET', `/rooms/${seg(roomId)}/join-requests`, { schema: JoinRequestsResponseSchema });
  }
  approveJoinRequest(roomId: string, userId: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/join-requests/${seg(userId)}/approve`, {});
  }
  rejectJoinRequest(roomId: string, userId: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/join-requests/${seg(userId)}/reject`, {});
  }
  setRole(roomId: string, userId: string, role: Exclude<Role, 'owner'>): Promise<void> {
    return this.request('PATCH', `/rooms/${seg(roomId)}/members/${seg(userId)}`, { body: { role } });
  }
  kick(roomId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/rooms/${seg(roomId)}/members/${seg(userId)}`, {});
  }
  ban(roomId: string, userId: string, reason?: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/bans`, { body: { userId, reason } });
  }
  unban(roomId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/rooms/${seg(roomId)}/bans/${seg(userId)}`, {});
  }
  timeout(roomId: string, userId: string, seconds: number, reason?: string): Promise<void> {
    return this.request('POST', `/rooms/${seg(roomId)}/timeouts`, { body: { userId, seconds, reason } });
  }
  auditLog(roomId: string, page: { before?: number; limit?: number } = {}): Promise<AuditLogResponse> {
    return this.request('GET', `/rooms/${seg(roomId)}/audit-log`, { query: page, schema: AuditLogResponseSchema });
  }

  /**
   * One request; an authenticated one answered `UNAUTHORIZED` refreshes the token once and is retried once
   * (a second refusal is final, so a revoked session cannot loop).
   */
  private async request<T = void>(method: string, path: string, spec: RequestSpec<T>): Promise<T> {
    if (spec.anonymous || !this.auth) return this.send(method, path, spec, undefined);
    const token = this.auth.getAccessToken();
    try {
      return await this.send(method, path, spec, token);
    } catch (err) {
      if (!(err instanceof ChatError) || err.code !== 'UNAUTHORIZED') throw err;
      await this.auth.refresh(token);
      return this.send(method, path, spec, this.auth.getAccessToken());
    }
  }

  private async send<T>(method: string, path: string, spec: RequestSpec<T>, token: string | undefined): Promise<T> {
    const url = new URL(`${this.baseUrl}/api${path}`);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;

    let res: Response;
    try {
      res = await this.fetchFn(url.toString(), {
        method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      });
    } catch (err) {
      throw new ChatError('UNAVAILABLE', `network error: ${err instanceof Error ? err.message : String(err)}`);
    }

    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }

    if (!res.ok) {
      const body = HttpErrorBodySchema.safeParse(json);
      const fallback = STATUS_CODES[res.status] ?? (res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL');
      const raw = body.success ? body.data.error : (json as { error?: unknown } | undefined)?.error;
      const err = chatErrorFrom(raw, fallback, `HTTP ${res.status}`);
      // A gateway's 429/503 without our body may still say when to retry.
      if (err.retryAfterMs === undefined) {
        const header = Number(res.headers.get('retry-after'));
        if (Number.isFinite(header) && header > 0) {
          throw new ChatError(err.code, err.message, { retryAfterMs: header * 1000, details: err.details });
        }
      }
      throw err;
    }

    if (!spec.schema) return undefined as T;
    try {
      return spec.schema.parse(json);
    } catch (err) {
      // Drift between server and protocol is a bug worth surfacing loudly, not data to render.
      throw new ChatError('INTERNAL', `response of ${method} ${path} does not match the protocol`, {
        details: { issues: err instanceof Error ? err.message : String(err) },
      });
    }
  }
}
