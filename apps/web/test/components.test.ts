import { HttpApi, Session, type ConnectionStatus } from '@chat/client';
import type { Member, Message } from '@chat/protocol';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import * as React from 'react';
import { createElement, type ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { HistoryData } from '../src/chat/history-cache';
import { LiveSession } from '../src/chat/live-session';
import type { PendingMessage } from '../src/chat/pending-cache';
import { queryKeys } from '../src/chat/queries';
import { ConnectionBanner } from '../src/ui/ConnectionBanner';
import { LiveSessionContext } from '../src/ui/live-session-context';
import { MessageList } from '../src/ui/MessageList';
import type { MessageActions } from '../src/ui/MessageRow';

/**
 * Components rendered to markup from the query cache (react-dom/server: the installed jsdom 31 cannot run
 * on Node 20, see docs/web-client.md), with a real LiveSession whose socket points at a port where nothing
 * listens, so it is honestly "not connected". Interaction is covered by the Chromium tests.
 */

// SWC compiles the app's .tsx for jest with the classic JSX runtime, which calls the global React.
(globalThis as { React?: unknown }).React = React;

const ME = 'u-me';
// Port 9 (discard) on loopback refuses connections.
const NOWHERE = 'http://127.0.0.1:9';

class MemoryStorage implements Storage {
  private map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

let live: LiveSession | undefined;
function setup() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const anon = new HttpApi({ baseUrl: NOWHERE });
  const session = new Session({ api: anon, tokens: { accessToken: 'a', refreshToken: 'r' } });
  const created = new LiveSession({ url: NOWHERE, api: anon.withAuth(session), session, userId: ME, username: 'me', queryClient, storage: new MemoryStorage() });
  live = created;
  const render = (children: ReactNode) =>
    renderToStaticMarkup(createElement(QueryClientProvider, { client: queryClient }, createElement(LiveSessionContext, { value: created }, children)));
  return { queryClient, live: created, render };
}
afterEach(() => {
  live?.close();
  live = undefined;
});

const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 9, 0, i)).toISOString();
const message = (seq: number, senderId: string, content: string): Message => ({
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  roomId: 'r1',
  seq,
  senderId,
  senderName: senderId === ME ? 'me' : 'Bob',
  content,
  createdAt: at(seq),
});
const members: Member[] = [
  { userId: ME, username: 'me', displayName: 'Me', role: 'owner', online: true },
  { userId: 'u-bob', username: 'bob', displayName: 'Bob', role: 'member', online: true },
];
const actions: MessageActions = { reply: () => {}, edit: () => {}, remove: () => {}, react: () => {}, retry: () => {}, discard: () => {} };
const texts = (html: string) => [...html.matchAll(/<p [^>]*data-message-id="[^"]+"[^>]*>(.*?)<\/p>/g)].map((m) => m[1]!);

describe('web components rendered to markup', () => {
  test('a room with 10,000 loaded messages renders only a window of rows: the newest, in order', () => {
    const s = setup();
    const all = Array.from({ length: 10_000 }, (_, i) => message(i + 1, i % 3 === 0 ? ME : 'u-bob', `message ${i + 1}`));
    // 100 pages of 100, newest first, as scrolling back through the room leaves them.
    const pages = Array.from({ length: 100 }, (_, p) => ({ messages: all.slice(10_000 - (p + 1) * 100, 10_000 - p * 100), hasMore: p < 99 }));
    s.queryClient.setQueryData<HistoryData>(queryKeys.history('r1'), { pages, pageParams: pages.map((_, p) => (p === 0 ? undefined : 10_000 - p * 100 + 1)) });
    s.queryClient.setQueryData(queryKeys.members('r1'), members);
    const html = s.render(createElement(MessageList, { roomId: 'r1', group: true, actions }));
    const shown = texts(html);
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(60);
    expect(shown.at(-1)).toBe('message 10000');
    expect(shown).toEqual(shown.map((_, i) => `message ${10_000 - shown.length + 1 + i}`));
    // The rows that are not rendered are stood in for by a spacer of their estimated height.
    expect(html).toMatch(/<div style="height:\d{5,}px" aria-hidden="true"><\/div>/);
  });

  test('content is text and only http(s) addresses are links; our messages carry their ticks', () => {
    const s = setup();
    const evil = message(1, 'u-bob', '<img src=x onerror=alert(1)> javascript:alert(1) https://example.org/ok');
    const mine = message(2, ME, 'mine');
    s.queryClient.setQueryData<HistoryData>(queryKeys.history('r1'), { pages: [{ messages: [evil, mine], hasMore: false }], pageParams: [undefined] });
    s.queryClient.setQueryData(queryKeys.members('r1'), members);
    s.queryClient.setQueryData(queryKeys.receipts('r1'), { 'u-bob': { deliveredSeq: 2, readSeq: 1 } });
    const html = s.render(createElement(MessageList, { roomId: 'r1', group: true, actions }));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; javascript:alert(1) ');
    expect([...html.matchAll(/<a [^>]*href="([^"]*)"[^>]*rel="([^"]*)"/g)].map((m) => [m[1], m[2]])).toEqual([['https://example.org/ok', 'noopener noreferrer nofollow']]);
    expect(html).toMatch(/title="Delivered" data-status="delivered"/);
  });

  test('a refused message stays on screen as "failed", with the reason, Retry and Discard', () => {
    const s = setup();
    s.queryClient.setQueryData<HistoryData>(queryKeys.history('r1'), { pages: [{ messages: [], hasMore: false }], pageParams: [undefined] });
    const failed: PendingMessage = {
      id: '11111111-1111-4111-8111-111111111111',
      roomId: 'r1',
      content: 'not allowed',
      createdAt: at(2),
      status: 'failed',
      error: { code: 'FORBIDDEN', message: 'You are timed out in this room.' },
    };
    const sending: PendingMessage = { ...failed, id: '22222222-2222-4222-8222-222222222222', content: 'on its way', status: 'sending' };
    delete sending.error;
    s.queryClient.setQueryData(queryKeys.pending('r1'), [failed, sending]);
    const html = s.render(createElement(MessageList, { roomId: 'r1', group: true, actions }));
    const failedRow = html.slice(html.indexOf('aria-label="You: not allowed"'), html.indexOf('aria-label="You: on its way"'));
    expect(failedRow).toContain('data-status="failed"');
    expect(failedRow).toContain('Not sent');
    expect(failedRow).toContain('You are timed out in this room.');
    expect(failedRow).toContain('>Retry</button>');
    expect(failedRow).toContain('>Discard</button>');
    const sendingRow = html.slice(html.indexOf('aria-label="You: on its way"'));
    expect(sendingRow).toContain('data-status="sending"');
    // Not connected: the clock says it is waiting, not that it is being sent.
    expect(sendingRow).toContain('waiting for connection');
  });

  test('the connection banner counts down to the next attempt and offers to retry now', async () => {
    const s = setup();
    // The socket (to a port where nothing listens) fails and schedules its next attempt.
    const scheduled = await new Promise<ConnectionStatus>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no retry scheduled; status ${JSON.stringify(s.live.socket.status)}`)), 15_000);
      const check = (st: ConnectionStatus) => {
        if (st.retryAt === undefined) return;
        clearTimeout(timer);
        off();
        resolve(st);
      };
      const off = s.live.socket.on('status', check);
    });
    expect(scheduled.state).toBe('connecting');
    const html = s.render(createElement(ConnectionBanner));
    expect(html).toMatch(/data-connection-state="connecting"/);
    expect(html).toMatch(/Cannot reach the server\. Retrying in \d+ seconds?\./);
    expect(html).toContain('>Retry now</button>');
  });
});
