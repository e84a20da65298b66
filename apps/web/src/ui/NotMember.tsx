import { useMutation, useQueryClient } from '@tanstack/react-query';
import { queryKeys } from '../chat/queries';
import { useLive } from './live-session-context';
import { ErrorAlert } from './ErrorAlert';

/**
 * A room link opened by someone who is not in the room: offer to join (a public room at once, a private one
 * by a request its owner or admins approve). The server does not show a private room to non-members, so
 * there is nothing to show about it until then.
 */
export function NotMember({ roomId }: { roomId: string }) {
  const live = useLive();
  const qc = useQueryClient();
  const ask = useMutation({
    mutationFn: async () => ({ requested: 'joinRequest' in (await live.api.joinRoom(roomId)) }),
    onSuccess: async ({ requested }) => {
      if (!requested) await qc.invalidateQueries({ queryKey: queryKeys.rooms });
    },
  });
  return (
    <section aria-label="Not a member" className="m-auto max-w-sm space-y-3 p-6 text-center text-sm text-slate-600">
      <p className="text-base font-medium text-slate-800">You are not a member of this room.</p>
      {ask.data?.requested ? (
        <p role="status">Your request to join was sent. You will see the room here as soon as an owner or admin approves it.</p>
      ) : (
        <>
          <p>Ask to join: a public room lets you in at once; in a private room an owner or admin decides.</p>
          <button onClick={() => ask.mutate()} disabled={ask.isPending} className="rounded-md bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-50">
            {ask.isPending ? 'Asking…' : 'Ask to join'}
          </button>
        </>
      )}
      <ErrorAlert error={ask.error} className="" />
    </section>
  );
}
