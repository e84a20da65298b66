/** Numeric limits of docs/PROTOCOL.md, in one place so server, client and tests agree. */
export const LIMITS = {
  /** Unicode code points of message content. */
  contentMaxCodePoints: 4000,
  /** A Socket.IO packet over this closes the connection. */
  socketPayloadMaxBytes: 64 * 1024,
  /** An HTTP body over this answers 413. */
  httpBodyMaxBytes: 1024 * 1024,
  /** An uploaded file over this answers 413 before a byte of it is stored (PROTOCOL.md "Files"). */
  fileMaxBytes: 10 * 1024 * 1024,
  fileNameMax: 200,
  /** A profile picture (PNG, JPEG, GIF or WebP) over this answers 413. */
  avatarMaxBytes: 1024 * 1024,
  /** Files one message may carry. */
  attachmentsPerMessage: 4,
  /** How long a file link (GET /api/files/:fileId/link) may be used. */
  fileLinkSeconds: 300,
  historyDefaultLimit: 50,
  historyMaxLimit: 100,
  syncDefaultLimit: 50,
  syncMaxLimit: 50,
  presenceGetMaxIds: 100,
  userSearchMax: 20,
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  displayNameMax: 64,
  roomNameMax: 100,
  /** A room's topic, shown under its name; empty clears it. */
  roomTopicMax: 500,
  /** Distinct reactions one user may have on one message; one more is CONFLICT. */
  reactionsPerUserPerMessage: 5,
  reasonMax: 500,
  timeoutMaxSeconds: 60 * 60 * 24 * 28,
  /** Default per-user send budget (messages per second). */
  messagesPerSecond: 10,
  /**
   * Per-user budgets of the other socket events, per second, by class (PROTOCOL.md "Budgets"): edits and
   * deletes, reactions, receipts (delivered/read), typing, sync, presence:get. Over budget: RATE_LIMITED.
   */
  eventsPerSecond: { edit: 5, reaction: 10, receipt: 50, typing: 10, sync: 30, presence: 5 },
  /**
   * REST budgets per minute by route class (HttpRoute.budget; PROTOCOL.md "Budgets"), per signed-in user and
   * per client address (IPv6 by its /64). `auth` routes have no user yet: per address only, besides the
   * finer sign-in budgets per account. Over budget: 429 RATE_LIMITED with retryAfterMs.
   */
  httpRequestsPerMinute: {
    auth: { address: 120 },
    read: { user: 600, address: 2400 },
    rooms: { user: 60, address: 600 },
    search: { user: 60, address: 600 },
    history: { user: 600, address: 2400 },
  },
  /** Default cap on events of one socket being handled at once (SOCKET_EVENTS_IN_FLIGHT_MAX); more are RATE_LIMITED. */
  eventsInFlightPerSocket: 64,
  /**
   * Default caps on sockets connected at once (SOCKETS_PER_USER_MAX across the cluster, SOCKETS_PER_ADDRESS_MAX
   * per node; NGINX caps connections per address too). A handshake over either: connect_error RATE_LIMITED.
   */
  socketsPerUser: 20,
  socketsPerAddress: 256,
  /** Typing: one broadcast per user and room per this window; `typing: true` expires after typingExpiryMs. */
  typingCoalesceMs: 1000,
  typingExpiryMs: 3000,
} as const;
