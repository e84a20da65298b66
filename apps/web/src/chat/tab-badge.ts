import type { RoomSummary } from '@chat/protocol';

const TITLE = 'Chat';

/** Unread messages across every room: what the tab title and favicon show while the tab is elsewhere. */
export function totalUnread(rooms: readonly RoomSummary[] | undefined): number {
  return (rooms ?? []).reduce((n, r) => n + r.unread, 0);
}

export function tabTitle(unread: number): string {
  return unread === 0 ? TITLE : `(${unread > 99 ? '99+' : unread}) ${TITLE}`;
}

/**
 * The favicon with a red count in its corner, as an SVG data URL (the Content-Security-Policy allows data:
 * images); undefined for no unread messages, which means the plain icon.
 */
export function badgeIcon(unread: number): string | undefined {
  if (unread === 0) return undefined;
  const label = unread > 9 ? '9+' : String(unread);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">` +
    `<rect width="32" height="32" rx="7" fill="#4f46e5"/>` +
    `<circle cx="22" cy="10" r="10" fill="#dc2626"/>` +
    `<text x="22" y="14.5" font-family="sans-serif" font-size="${label.length > 1 ? 11 : 13}" font-weight="700" fill="#fff" text-anchor="middle">${label}</text>` +
    `</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
