import { MemoryOutboxStorage, Outbox } from '@chat/client';
import { ChatError, type Message } from '@chat/protocol';
import { MutationObserver, QueryClient } from '@tanstack/react-query';
import { messagesOf, withMessage, type HistoryData } from '../src/chat/history-cache';
import type { PendingMessage } from '../src/chat/pending-cache';
import { queryKeys } from '../src/chat/queries';
import { sendMutationOptions, type SendDraft } from '../src/chat/send-mutation';

/**
 * The optimistic send path over a real QueryClient and the SDK's real Outbox; only the outbox's `send`
 * (the socket) is a controllable function here, so each acknowledgement or refusal happens when the test
 * says. The socket itself is exercised by the SDK's and the browser tests.
 */
function setup() {
  const qc = new QueryClient();
  const storage = new MemoryOutboxStorage();
  const calls: { id: string; resolve: (m: Message) => void; reject: (e: unknown) => void }[] = [];
  const outbox = new Outbox({ storage, intervalMs: 0, send: (item) => new Promise<Message>((resolve, reject) => calls.push({ id: item.id, resolve, reject })) });
  const empty: HistoryData = { pages: [{ messages: [], hasMore: false }], pageParams: [undefined] };
  qc.setQueryData(queryKeys.history('r1'), empty);
  const options = sendMutationOptions({
    queryClient: qc,
    outbox,
    onSent: (m) => qc.setQueryData<HistoryData>(queryKeys.history(m.roomId), (d) => d && withMessage(d, m)),
  });
  const pending = () => qc.getQueryData<PendingMessage[]>(queryKeys.pending('r1')) ?? [];
  const history = () => messagesOf(qc.getQueryData<HistoryData>(queryKeys.history('r1'))).map((m) => m.content);
  const mutate = (draft: SendDraft) => new MutationObserver(qc, options).mutate(draft);
  return { qc, outbox, calls, pending, history, mutate };
}

const draft = (id: string, content: string): SendDraft => ({ id, roomId: 'r1', content, createdAt: new Date(0).toISOString() });
const stored = (d: SendDraft, seq: number): Message => ({ id: d.id, roomId: d.roomId, seq, senderId: 'me', senderName: 'me', content: d.content, createdAt: d.createdAt });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('optimistic send mutation', () => {
  test('onMutate shows a sending row at once; the ack hands it over to the stored message', async () => {
    const { outbox, calls, pending, history, mutate } = setup();
    outbox.setOnline(true);
    const d = draft('00000000-0000-4000-8000-000000000001', 'hello');
    const done = mutate(d);
    await settle();
    expect(pending()).toMatchObject([{ id: d.id, status: 'sending', content: 'hello' }]);
    expect(history()).toEqual([]);
    calls[0]!.resolve(stored(d, 1));
    await done;
    expect(pending()).toEqual([]);
    expect(history()).toEqual(['hello']);
  });

  test('a refusal turns the row into "failed" with the reason, never drops it; retry sends the same id', async () => {
    const { outbox, calls, pending, history, mutate } = setup();
    outbox.setOnline(true);
    const d = draft('00000000-0000-4000-8000-000000000002', 'are you there?');
    await expect(
      (async () => {
        const p = mutate(d);
        await settle();
        calls[0]!.reject(new ChatError('FORBIDDEN', 'you are timed out'));
        return p;
      })(),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(pending()).toMatchObject([{ id: d.id, status: 'failed', error: { code: 'FORBIDDEN', message: 'you are timed out' } }]);
    expect(outbox.list()).toMatchObject([{ id: d.id, state: 'failed' }]);

    const again = mutate(d);
    await settle();
    expect(pending()).toMatchObject([{ id: d.id, status: 'sending' }]);
    expect(pending()[0]!.error).toBeUndefined();
    expect(calls.map((c) => c.id)).toEqual([d.id, d.id]);
    calls[1]!.resolve(stored(d, 1));
    await again;
    expect(pending()).toEqual([]);
    expect(history()).toEqual(['are you there?']);
  });

  test('offline, rows stay "sending" in order, however long; once online they are sent one by one, in order', async () => {
    const { outbox, calls, pending, history, mutate } = setup();
    const drafts = ['a', 'b', 'c'].map((c, i) => draft(`00000000-0000-4000-8000-00000000001${i}`, c));
    const done = drafts.map((d) => mutate(d));
    await settle();
    expect(pending().map((p) => [p.content, p.status])).toEqual([
      ['a', 'sending'],
      ['b', 'sending'],
      ['c', 'sending'],
    ]);
    expect(calls).toHaveLength(0);
    outbox.setOnline(true);
    for (let i = 0; i < 3; i++) {
      await settle();
      expect(calls).toHaveLength(i + 1);
      calls[i]!.resolve(stored(drafts[i]!, i + 1));
    }
    await Promise.all(done);
    expect(history()).toEqual(['a', 'b', 'c']);
    expect(pending()).toEqual([]);
  });
});
