const PREFIX = '#/rooms/';
const AT = '/at/';

/**
 * The open room lives in the URL hash: reload-safe and needs no server-side fallback route. A message
 * opened from search adds its seq (`#/rooms/<id>/at/<seq>`): the room is shown around that message.
 */
function parse(): { roomId: string; seq: number | undefined } | undefined {
  const hash = window.location.hash;
  if (!hash.startsWith(PREFIX)) return undefined;
  const rest = hash.slice(PREFIX.length);
  const cut = rest.indexOf(AT);
  const roomId = decodeURIComponent(cut === -1 ? rest : rest.slice(0, cut));
  if (!roomId) return undefined;
  const seq = cut === -1 ? undefined : Number(rest.slice(cut + AT.length));
  return { roomId, seq: seq !== undefined && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined };
}

export function currentRoomId(): string | undefined {
  return parse()?.roomId;
}

/** The message (by seq) the open room is shown around, when it was opened from search. */
export function currentFocusSeq(): number | undefined {
  return parse()?.seq;
}

export function openRoom(roomId: string | undefined, atSeq?: number): void {
  window.location.hash = roomId === undefined ? '' : PREFIX + encodeURIComponent(roomId) + (atSeq === undefined ? '' : AT + atSeq);
}

export function subscribeRoute(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}
