import type { Message } from '@chat/protocol';
import type { PendingMessage } from './pending-cache';

export type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; message: Message; own: boolean; continued: boolean }
  | { kind: 'pending'; key: string; pending: PendingMessage; continued: boolean };

// Messages of one sender within this window share one header (name and time).
const GROUP_MS = 5 * 60_000;

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * The rows of a room view, oldest first: day separators, stored messages (grouped by sender), then the
 * optimistic rows of messages not yet acknowledged. A pending row whose id is already stored is gone: the
 * stored copy took its place (same id, so no flicker and no duplicate).
 */
export function buildRows(messages: readonly Message[], pending: readonly PendingMessage[], userId: string): Row[] {
  const rows: Row[] = [];
  let lastDay = '';
  let lastSender = '';
  let lastTime = 0;
  const stored = new Set<string>();
  const addDay = (iso: string) => {
    const day = dayKey(iso);
    if (day === lastDay) return false;
    lastDay = day;
    rows.push({ kind: 'day', key: `day:${day}`, label: dayFormat.format(new Date(iso)) });
    return true;
  };
  for (const m of messages) {
    stored.add(m.id);
    const newDay = addDay(m.createdAt);
    const t = Date.parse(m.createdAt);
    const continued = !newDay && m.senderId === lastSender && t - lastTime < GROUP_MS;
    rows.push({ kind: 'message', key: m.id, message: m, own: m.senderId === userId, continued });
    lastSender = m.senderId;
    lastTime = t;
  }
  for (const p of pending) {
    if (stored.has(p.id)) continue;
    const newDay = addDay(p.createdAt);
    const t = Date.parse(p.createdAt);
    rows.push({ kind: 'pending', key: p.id, pending: p, continued: !newDay && lastSender === userId && t - lastTime < GROUP_MS });
    lastSender = userId;
    lastTime = t;
  }
  return rows;
}
