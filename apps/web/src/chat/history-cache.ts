import type { HistoryResponse, Message } from '@chat/protocol';
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
  return {
    ...data,
    pages: data.pages.map((p) => (p.messages.some((m) => m.id === message.id) ? { ...p, messages: p.messages.map((m) => (m.id === message.id ? message : m)) } : p)),
  };
}

/** Every loaded message once, oldest first. */
export function messagesOf(data: InfiniteData<HistoryResponse, unknown> | undefined): Message[] {
  if (!data) return [];
  const byId = new Map<string, Message>();
  for (const page of data.pages) for (const m of page.messages) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}
