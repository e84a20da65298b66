/**
 * The Origin allowlist for HTTP and the Socket.IO handshake. Requests without an Origin (native clients,
 * load tools, server-to-server) pass; a browser origin passes when it is the node's own (same host) or
 * listed in ALLOWED_ORIGINS.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
