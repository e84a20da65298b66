import type { HistoryResponse, Message, ReactionUpdated } from '@chat/protocol';
import type { InfiniteData } from '@tanstack/react-query';

export type HistoryData = InfiniteData<HistoryResponse, number | undefined>;

/** Adds a live message to the newest page, unless some page already holds it. */
export function withMessage(data: HistoryData, message: Message): HistoryData {
  if (data.pages.some((p) => p.messages.some((m) => m.id === message.id))) return withUpdatedMessage(data, message);
  const [newest, ...older] = data.pages;
  if (!newest) return data;
  return { ...data, pages: [{ ...newest, messages: [...newest.messages, message] }, ...older] };
}

/** Replaces a message (edited, deleted) wherever it is. */
export function withUpdatedMessage(data: HistoryData, message: Message): HistoryData {
  return mapMessage(data, message.id, () => message);
}

/** Applies `fn` to the message with `id` wherever it is; pages without it keep their identity. */
export function mapMessage(data: HistoryData, id: string, fn: (m: Message) => Message): HistoryData {
  return {
    ...data,
    pages: data.pages.map((p) => (p.messages.some((m) => m.id === id) ? { ...p, messages: p.messages.map((m) => (m.id === id ? fn(m) : m)) } : p)),
  };
}

export function withReactions(data: HistoryData, update: ReactionUpdated): HistoryData {
  return mapMessage(data, update.messageId, (m) => ({ ...m, reactions: update.reactions }));
}

/** Finds a loaded message. */
export function findMessage(data: HistoryData | undefined, id: string): Message | undefined {
  for (const p of data?.pages ?? []) for (const m of p.messages) if (m.id === id) return m;
  return undefined;
}

/** Every loaded message once, oldest first. */
export function messagesOf(data: InfiniteData<HistoryResponse, unknown> | undefined): Message[] {
  if (!data) return [];
  const byId = new Map<string, Message>();
  for (const page of data.pages) for (const m of page.messages) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
