import type { Member } from '@chat/protocol';
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { applyMemberEvent, withMember, withoutMember } from '../src/chat/members-cache';
import { queryKeys } from '../src/chat/queries';

const member = (userId: string, displayName = userId): Member =>
  ({ userId, username: userId, displayName, role: 'member', online: true, joinedAt: '2026-12-01T00:00:00.000Z' }) as Member;

/** A members query whose fetches are answered by hand, in the order the test chooses. */
function controlledMembers(qc: QueryClient, roomId: string) {
  const answers: ((list: Member[]) => void)[] = [];
  const observer = new QueryObserver<Member[]>(qc, {
    queryKey: queryKeys.members(roomId),
    queryFn: ({ signal }) =>
      new Promise<Member[]>((resolve, reject) => {
        answers.push(resolve);
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
    staleTime: Infinity,
  });
  const unsubscribe = observer.subscribe(() => undefined);
  return { answers, unsubscribe, data: () => qc.getQueryData<Member[]>(queryKeys.members(roomId)) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('members cache', () => {
  test('a member who joins while the list is being fetched is in the list once the fetch settles', async () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const q = controlledMembers(qc, 'r1');
    await settle();
    expect(q.answers).toHaveLength(1); // the first fetch is in flight (answered with the state before the join)
    applyMemberEvent(qc, 'r1', (list) => withMember(list, member('bob')));
    await settle();
    expect(q.answers).toHaveLength(2); // refetched, the stale fetch cancelled
    q.answers[0]!([member('alice')]); // the old answer arrives late: ignored
    q.answers[1]!([member('alice'), member('bob')]);
    await settle();
    expect(q.data()?.map((m) => m.userId)).toEqual(['alice', 'bob']);
    q.unsubscribe();
    qc.clear();
  });

  test('a loaded list is updated in place, without a fetch', async () => {
    const qc = new QueryClient();
    const q = controlledMembers(qc, 'r1');
    await settle();
    q.answers[0]!([member('alice'), member('bob')]);
    await settle();
    applyMemberEvent(qc, 'r1', (list) => withMember(list, member('carol')));
    applyMemberEvent(qc, 'r1', (list) => withMember(list, member('bob', 'Bobby')));
    applyMemberEvent(qc, 'r1', (list) => withoutMember(list, 'alice'));
    expect(q.data()?.map((m) => [m.userId, m.displayName])).toEqual([
      ['bob', 'Bobby'],
      ['carol', 'carol'],
    ]);
    expect(q.answers).toHaveLength(1);
    q.unsubscribe();
    qc.clear();
  });

  test('a room whose members were never asked for stays unfetched', () => {
    const qc = new QueryClient();
    applyMemberEvent(qc, 'r9', (list) => withMember(list, member('bob')));
    expect(qc.getQueryState(queryKeys.members('r9'))).toBeUndefined();
  });
});
