import {
  type ChangePasswordBody,
  ChatError,
  HTTP_ROUTES,
  HttpErrorBodySchema,
  routePath,
  type AuditLogResponse,
  type BansResponse,
  type UpdateProfileBody,
  type AuthResponse,
  type CreateRoomBody,
  type DiscoverResponse,
  type ErrorCode,
  type HistoryResponse,
  type HttpRoute,
  type JoinRequestsResponse,
  type JoinResponse,
  type LoginBody,
  type MeResponse,
  type MemberResponse,
  type MembersResponse,
  type RegisterBody,
  type Role,
  type RoomListResponse,
  type RoomResponse,
  type SearchResponse,
  type TokensResponse,
  type UserSearchResponse,
  type FileLinkResponse,
  type FileResponse,
  type UpdateRoomBody,
} from '@chat/protocol';
import { chatErrorFrom } from './chat-errors';
import type { TokenProvider } from './tokens';

export type { AuditLogResponse, JoinRequestsResponse };
/** `POST /rooms/:id/join`: a public room is joined at once, a private one answers a pending request. */
export type JoinResult = JoinResponse;

export interface HttpApiOptions {
  /** Origin (and optional path prefix) of the server or NGINX, without `/api`. */
  baseUrl: string;
  /** Defaults to the global `fetch` (browsers, Node 20+). */
  fetch?: typeof fetch;
  /** Supplies `Authorization: Bearer`; without it, only the account routes work. */
  auth?: TokenProvider;
}

interface RequestInput {
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A body sent as it is (a file upload), with its content type. */
  raw?: { type: string; data: Blob | Uint8Array };
}

// Statuses that carry no protocol body (NGINX pages, gateways) still map onto the protocol's codes.
/** The success body of a route, as its response schema parses it; nothing for a route answering 204. */
type Answer<R extends HttpRoute> = R extends { response: infer S extends HttpRoute['response'] & object } ? ReturnType<S['parse']> : void;

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

/** Every route of the protocol's HTTP API (`HTTP_ROUTES`, docs/PROTOCOL.md), typed and checked by its schemas. */
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
    return this.request(HTTP_ROUTES.register, { body });
  }
  login(body: LoginBody): Promise<AuthResponse> {
    return this.request(HTTP_ROUTES.login, { body });
  }
  refresh(refreshToken: string): Promise<TokensResponse> {
    return this.request(HTTP_ROUTES.refresh, { body: { refreshToken } });
  }
  logout(refreshToken: string): Promise<void> {
    return this.request(HTTP_ROUTES.logout, { body: { refreshToken } });
  }
  /** Signs out every session of the caller, this one included. */
  logoutEverywhere(): Promise<void> {
    return this.request(HTTP_ROUTES.logoutEverywhere);
  }
  /** A new password; the server signs out every other session. */
  changePassword(body: ChangePasswordBody): Promise<void> {
    return this.request(HTTP_ROUTES.changePassword, { body });
  }
  me(): Promise<MeResponse> {
    return this.request(HTTP_ROUTES.me);
  }
  /** A new display name: shown at once in every room the user is in (`member:updated`). */
  updateProfile(body: UpdateProfileBody): Promise<MeResponse> {
    return this.request(HTTP_ROUTES.updateProfile, { body });
  }

  searchUsers(query: string): Promise<UserSearchResponse> {
    return this.request(HTTP_ROUTES.searchUsers, { query: { query } });
  }

  // Rooms.
  listRooms(): Promise<RoomListResponse> {
    return this.request(HTTP_ROUTES.listRooms);
  }
  createRoom(body: CreateRoomBody): Promise<RoomResponse> {
    return this.request(HTTP_ROUTES.createRoom, { body });
  }
  directRoom(userId: string): Promise<RoomResponse> {
    return this.request(HTTP_ROUTES.directRoom, { body: { userId } });
  }
  discoverRooms(query = ''): Promise<DiscoverResponse> {
    return this.request(HTTP_ROUTES.discoverRooms, { query: { query } });
  }
  joinRoom(roomId: string): Promise<JoinResult> {
    return this.request(HTTP_ROUTES.joinRoom, { params: { roomId } });
  }
  leaveRoom(roomId: string): Promise<void> {
    return this.request(HTTP_ROUTES.leaveRoom, { params: { roomId } });
  }
  /**
   * Uploads a file for the message `messageId` that will carry it (PROTOCOL.md "Files"); send the message
   * with `attachments: [file.id]` afterwards. No progress events: the web app uploads with its own XHR for those.
   */
  uploadFile(roomId: string, file: { messageId: string; name: string; type: string; data: Blob | Uint8Array }): Promise<FileResponse> {
    return this.request(HTTP_ROUTES.uploadFile, { params: { roomId }, query: { messageId: file.messageId, name: file.name }, raw: { type: file.type, data: file.data } });
  }
  /** A short-lived address of the file's bytes that needs no token (relative to the server's base URL). */
  fileLink(fileId: string): Promise<FileLinkResponse> {
    return this.request(HTTP_ROUTES.fileLink, { params: { fileId } });
  }
  /** A new profile picture (PNG, JPEG, GIF or WebP, LIMITS.avatarMaxBytes); the answer carries its `avatarUrl`. */
  setAvatar(picture: { type: string; data: Blob | Uint8Array }): Promise<MeResponse> {
    return this.request(HTTP_ROUTES.setAvatar, { raw: picture });
  }
  removeAvatar(): Promise<MeResponse> {
    return this.request(HTTP_ROUTES.removeAvatar);
  }
  /** A new name and/or topic (owner or admin); members get `room:updated`. */
  updateRoom(roomId: string, change: UpdateRoomBody): Promise<RoomResponse> {
    return this.request(HTTP_ROUTES.updateRoom, { params: { roomId }, body: change });
  }
  members(roomId: string): Promise<MembersResponse> {
    return this.request(HTTP_ROUTES.members, { params: { roomId } });
  }
  history(roomId: string, page: { before?: number; after?: number; limit?: number } = {}): Promise<HistoryResponse> {
    return this.request(HTTP_ROUTES.history, { params: { roomId }, query: page });
  }
  search(q: string, roomId?: string): Promise<SearchResponse> {
    return this.request(HTTP_ROUTES.search, { query: { q, roomId } });
  }

  // Moderation (owner/admin).
  invite(roomId: string, userId: string): Promise<MemberResponse> {
    return this.request(HTTP_ROUTES.invite, { params: { roomId }, body: { userId } });
  }
  joinRequests(roomId: string): Promise<JoinRequestsResponse> {
    return this.request(HTTP_ROUTES.joinRequests, { params: { roomId } });
  }
  approveJoinRequest(roomId: string, userId: string): Promise<MemberResponse> {
    return this.request(HTTP_ROUTES.approveJoinRequest, { params: { roomId, userId } });
  }
  rejectJoinRequest(roomId: string, userId: string): Promise<void> {
    return this.request(HTTP_ROUTES.rejectJoinRequest, { params: { roomId, userId } });
  }
  /** `owner` hands the room over (owner only; the caller becomes an admin). */
  setRole(roomId: string, userId: string, role: Role): Promise<MemberResponse> {
    return this.request(HTTP_ROUTES.setRole, { params: { roomId, userId }, body: { role } });
  }
  kick(roomId: string, userId: string): Promise<void> {
    return this.request(HTTP_ROUTES.kick, { params: { roomId, userId } });
  }
  ban(roomId: string, userId: string, reason?: string): Promise<void> {
    return this.request(HTTP_ROUTES.ban, { params: { roomId }, body: { userId, reason } });
  }
  unban(roomId: string, userId: string): Promise<void> {
    return this.request(HTTP_ROUTES.unban, { params: { roomId, userId } });
  }
  timeout(roomId: string, userId: string, seconds: number, reason?: string): Promise<void> {
    return this.request(HTTP_ROUTES.timeout, { params: { roomId }, body: { userId, seconds, reason } });
  }
  bans(roomId: string): Promise<BansResponse> {
    return this.request(HTTP_ROUTES.bans, { params: { roomId } });
  }

  auditLog(roomId: string, page: { before?: number; limit?: number } = {}): Promise<AuditLogResponse> {
    return this.request(HTTP_ROUTES.auditLog, { params: { roomId }, query: page });
  }

  /**
   * One request; an authenticated one answered `UNAUTHORIZED` refreshes the token once and is retried once
   * (a second refusal is final, so a revoked session cannot loop). Routes without a token (accounts) are
   * never retried after a refresh.
   */
  private async request<R extends HttpRoute>(route: R, input: RequestInput = {}): Promise<Answer<R>> {
    if (!route.auth || !this.auth) return this.send(route, input, undefined);
    const token = this.auth.getAccessToken();
    try {
      return await this.send(route, input, token);
    } catch (err) {
      if (!(err instanceof ChatError) || err.code !== 'UNAUTHORIZED') throw err;
      await this.auth.refresh(token);
      return this.send(route, input, this.auth.getAccessToken());
    }
  }

  private async send<R extends HttpRoute>(route: R, input: RequestInput, token: string | undefined): Promise<Answer<R>> {
    const { method } = route;
    const path = routePath(route, input.params);
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    if (input.raw !== undefined) headers['content-type'] = input.raw.type;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;

    let res: Response;
    try {
      res = await this.fetchFn(url.toString(), {
        method,
        headers,
        body: input.raw !== undefined ? (input.raw.data as Blob) : input.body === undefined ? undefined : JSON.stringify(input.body),
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

    if (!route.response) return undefined as Answer<R>;
    try {
      return route.response.parse(json) as Answer<R>;
    } catch (err) {
      // Drift between server and protocol is a bug worth surfacing loudly, not data to render.
      throw new ChatError('INTERNAL', `response of ${method} ${path} does not match the protocol`, {
        details: { issues: err instanceof Error ? err.message : String(err) },
      });
    }
  }
}
