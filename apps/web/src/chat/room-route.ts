const PREFIX = '#/rooms/';

/** The open room lives in the URL hash: reload-safe and needs no server-side fallback route. */
export function currentRoomId(): string | undefined {
  const hash = window.location.hash;
  return hash.startsWith(PREFIX) ? decodeURIComponent(hash.slice(PREFIX.length)) || undefined : undefined;
}

export function openRoom(roomId: string | undefined): void {
  window.location.hash = roomId === undefined ? '' : PREFIX + encodeURIComponent(roomId);
}

export function subscribeRoute(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}
