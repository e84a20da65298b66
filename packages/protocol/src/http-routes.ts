import { z } from 'zod';
import * as http from './http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRoute {
  method: HttpMethod;
  /** With its `/api` prefix; `:name` segments are the params. */
  path: string;
  /** Whether the route takes `Authorization: Bearer <accessToken>`. */
  auth: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success body; absent for routes that answer with no body (204). */
  response?: z.ZodType;
  /** The success statuses; the first is the usual one. */
  success: readonly number[];
  /** Its budget class (LIMITS.httpRequestsPerMinute; docs/PROTOCOL.md "Budgets"); `ops` routes have none. */
  budget: HttpBudgetClass;
}

/** REST budget classes: sign-in and tokens, reads of rooms and people, room changes, search, history. */
export type HttpBudgetClass = 'auth' | 'read' | 'rooms' | 'search' | 'history' | 'ops';

/**
 * Every HTTP route of docs/PROTOCOL.md, once. The server registers its routes from it (parsing params, query and
 * body with these schemas), the SDK builds its URLs and checks its answers with it, and the fuzz test walks it.
 */
export const HTTP_ROUTES = {
  // Accounts.
  register: { method: 'POST', path: '/api/auth/register', auth: false, body: http.RegisterBodySchema, response: http.AuthResponseSchema, success: [201], budget: 'auth' },
  login: { method: 'POST', path: '/api/auth/login', auth: false, body: http.LoginBodySchema, response: http.AuthResponseSchema, success: [200], budget: 'auth' },
  refresh: { method: 'POST', path: '/api/auth/refresh', auth: false, body: http.RefreshBodySchema, response: http.TokensResponseSchema, success: [200], budget: 'auth' },
  logout: { method: 'POST', path: '/api/auth/logout', auth: false, body: http.LogoutBodySchema, success: [204], budget: 'auth' },
  // Every session of the caller, this one included.
  logoutEverywhere: { method: 'POST', path: '/api/auth/logout-everywhere', auth: true, success: [204], budget: 'auth' },
  changePassword: { method: 'POST', path: '/api/auth/password', auth: true, body: http.ChangePasswordBodySchema, success: [204], budget: 'auth' },
  me: { method: 'GET', path: '/api/me', auth: true, response: http.MeResponseSchema, success: [200], budget: 'read' },
  updateProfile: { method: 'PATCH', path: '/api/me', auth: true, body: http.UpdateProfileBodySchema, response: http.MeResponseSchema, success: [200], budget: 'rooms' },
  // The body is the picture's bytes (image/png, jpeg, gif or webp; LIMITS.avatarMaxBytes); members of the user's rooms get member:updated.
  setAvatar: { method: 'PUT', path: '/api/me/avatar', auth: true, response: http.MeResponseSchema, success: [200], budget: 'rooms' },
  removeAvatar: { method: 'DELETE', path: '/api/me/avatar', auth: true, response: http.MeResponseSchema, success: [200], budget: 'rooms' },
  // A user's `avatarUrl`: no token (an `<img src>`), the id is unguessable and changes with every new picture.
  avatar: { method: 'GET', path: '/api/avatars/:avatarId', auth: false, params: http.AvatarParamsSchema, success: [200], budget: 'history' },
  searchUsers: { method: 'GET', path: '/api/users', auth: true, query: http.UserSearchQuerySchema, response: http.UserSearchResponseSchema, success: [200], budget: 'search' },

  // Rooms.
  listRooms: { method: 'GET', path: '/api/rooms', auth: true, response: http.RoomListResponseSchema, success: [200], budget: 'read' },
  createRoom: { method: 'POST', path: '/api/rooms', auth: true, body: http.CreateRoomBodySchema, response: http.RoomResponseSchema, success: [201], budget: 'rooms' },
  // 201 for the request that created the pair's room, 200 afterwards.
  directRoom: { method: 'POST', path: '/api/rooms/direct', auth: true, body: http.DirectRoomBodySchema, response: http.RoomResponseSchema, success: [201, 200], budget: 'rooms' },
  discoverRooms: { method: 'GET', path: '/api/rooms/discover', auth: true, query: http.DiscoverQuerySchema, response: http.DiscoverResponseSchema, success: [200], budget: 'read' },
  // 200 {room} for a public room, 202 {joinRequest} for a private one.
  joinRoom: { method: 'POST', path: '/api/rooms/:roomId/join', auth: true, params: http.RoomParamsSchema, response: http.JoinResponseSchema, success: [200, 202], budget: 'rooms' },
  leaveRoom: { method: 'POST', path: '/api/rooms/:roomId/leave', auth: true, params: http.RoomParamsSchema, success: [204], budget: 'rooms' },
  members: { method: 'GET', path: '/api/rooms/:roomId/members', auth: true, params: http.RoomParamsSchema, response: http.MembersResponseSchema, success: [200], budget: 'read' },
  history: { method: 'GET', path: '/api/rooms/:roomId/messages', auth: true, params: http.RoomParamsSchema, query: http.HistoryQuerySchema, response: http.HistoryResponseSchema, success: [200], budget: 'history' },
  search: { method: 'GET', path: '/api/search', auth: true, query: http.SearchQuerySchema, response: http.SearchResponseSchema, success: [200], budget: 'search' },

  // Files: uploaded for a message by a member who may send in the room; read by the room's members.
  uploadFile: { method: 'POST', path: '/api/rooms/:roomId/files', auth: true, params: http.RoomParamsSchema, query: http.UploadFileQuerySchema, response: http.FileResponseSchema, success: [201], budget: 'rooms' },
  fileLink: { method: 'GET', path: '/api/files/:fileId/link', auth: true, params: http.FileParamsSchema, response: http.FileLinkResponseSchema, success: [200], budget: 'read' },
  // The link's target: no token, the signature is the authorisation; answers the bytes (not JSON).
  fileContent: { method: 'GET', path: '/api/files/:fileId/content', auth: false, params: http.FileParamsSchema, query: http.FileContentQuerySchema, success: [200], budget: 'history' },

  // Moderation (room owner or admin).
  updateRoom: { method: 'PATCH', path: '/api/rooms/:roomId', auth: true, params: http.RoomParamsSchema, body: http.UpdateRoomBodySchema, response: http.RoomResponseSchema, success: [200], budget: 'rooms' },
  invite: { method: 'POST', path: '/api/rooms/:roomId/invites', auth: true, params: http.RoomParamsSchema, body: http.InviteBodySchema, response: http.MemberResponseSchema, success: [200], budget: 'rooms' },
  joinRequests: { method: 'GET', path: '/api/rooms/:roomId/join-requests', auth: true, params: http.RoomParamsSchema, response: http.JoinRequestsResponseSchema, success: [200], budget: 'read' },
  approveJoinRequest: { method: 'POST', path: '/api/rooms/:roomId/join-requests/:userId/approve', auth: true, params: http.RoomUserParamsSchema, response: http.MemberResponseSchema, success: [200], budget: 'rooms' },
  rejectJoinRequest: { method: 'POST', path: '/api/rooms/:roomId/join-requests/:userId/reject', auth: true, params: http.RoomUserParamsSchema, success: [204], budget: 'rooms' },
  setRole: { method: 'PATCH', path: '/api/rooms/:roomId/members/:userId', auth: true, params: http.RoomUserParamsSchema, body: http.UpdateRoleBodySchema, response: http.MemberResponseSchema, success: [200], budget: 'rooms' },
  kick: { method: 'DELETE', path: '/api/rooms/:roomId/members/:userId', auth: true, params: http.RoomUserParamsSchema, success: [204], budget: 'rooms' },
  ban: { method: 'POST', path: '/api/rooms/:roomId/bans', auth: true, params: http.RoomParamsSchema, body: http.BanBodySchema, success: [204], budget: 'rooms' },
  bans: { method: 'GET', path: '/api/rooms/:roomId/bans', auth: true, params: http.RoomParamsSchema, response: http.BansResponseSchema, success: [200], budget: 'read' },
  unban: { method: 'DELETE', path: '/api/rooms/:roomId/bans/:userId', auth: true, params: http.RoomUserParamsSchema, success: [204], budget: 'rooms' },
  timeout: { method: 'POST', path: '/api/rooms/:roomId/timeouts', auth: true, params: http.RoomParamsSchema, body: http.TimeoutBodySchema, success: [204], budget: 'rooms' },
  auditLog: { method: 'GET', path: '/api/rooms/:roomId/audit-log', auth: true, params: http.RoomParamsSchema, query: http.AuditLogQuerySchema, response: http.AuditLogResponseSchema, success: [200], budget: 'read' },

  // Operations: outside `/api`; readiness answers 503 naming the failing dependency (not an error body).
  health: { method: 'GET', path: '/healthz', auth: false, response: http.HealthResponseSchema, success: [200], budget: 'ops' },
  ready: { method: 'GET', path: '/readyz', auth: false, response: http.ReadyResponseSchema, success: [200], budget: 'ops' },
  metrics: { method: 'GET', path: '/metrics', auth: false, response: z.string(), success: [200], budget: 'ops' },
} as const satisfies Record<string, HttpRoute>;

export type HttpRouteName = keyof typeof HTTP_ROUTES;

/** `route.path` with its `:name` segments filled in (URI-encoded). */
export function routePath(route: HttpRoute, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.method} ${route.path}: missing param ${name}`);
    return encodeURIComponent(value);
  });
}
