import type { Attachment, ErrorObject } from '@chat/protocol';

/** An optimistic row: a message the user wrote that the server has not acknowledged yet. */
export interface PendingMessage {
  id: string;
  roomId: string;
  content: string;
  replyTo?: string;
  attachments?: Attachment[];
  createdAt: string;
  status: 'sending' | 'failed';
  error?: ErrorObject;
}

/** Adds the row, or puts an existing one (a retry) back to `sending` in its place. */
export function withPending(list: readonly PendingMessage[], row: PendingMessage): PendingMessage[] {
  const i = list.findIndex((p) => p.id === row.id);
  if (i < 0) return [...list, row];
  const merged: PendingMessage = { ...list[i]!, status: row.status };
  if (row.error) merged.error = row.error;
  else delete merged.error;
  const next = [...list];
  next[i] = merged;
  return next;
}

/** Marks a row failed; a row that is gone (discarded, or acknowledged meanwhile) stays gone. */
export function withPendingFailed(list: readonly PendingMessage[], id: string, error: ErrorObject): PendingMessage[] {
  return list.map((p) => (p.id === id ? { ...p, status: 'failed', error } : p));
}

export function withoutPending(list: readonly PendingMessage[], id: string): PendingMessage[] {
  return list.some((p) => p.id === id) ? list.filter((p) => p.id !== id) : [...list];
}
