import { useInfiniteQuery } from '@tanstack/react-query';
import { errorMessage } from '../chat/error-message';
import { auditSentence } from '../chat/moderation';
import { auditLogQuery } from '../chat/queries';
import { useLive } from './live-session-context';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Who did what in the room, newest first, for its owner and admins; older entries on request. */
export function AuditLog({ roomId }: { roomId: string }) {
  const live = useLive();
  const log = useInfiniteQuery({ ...auditLogQuery(live.api, roomId), staleTime: 0 });
  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <section aria-label="Audit log" className="border-t border-slate-200 px-4 py-3 text-sm">
      <h4 className="mb-1 font-medium">Audit log</h4>
      {log.isPending && <p className="text-slate-500">Loading…</p>}
      {log.isError && <p className="text-red-700">{errorMessage(log.error)}</p>}
      {log.isSuccess && entries.length === 0 && <p className="text-slate-500">Nothing yet.</p>}
      <ol className="space-y-1">
        {entries.map((e) => (
          <li key={e.id}>
            <span>{auditSentence(e)}</span>
            <time dateTime={e.createdAt} className="block text-xs text-slate-400">
              {when.format(new Date(e.createdAt))}
            </time>
          </li>
        ))}
      </ol>
      {log.hasNextPage && (
        <button onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage} className="mt-1 text-xs text-indigo-600 hover:underline">
          Older entries
        </button>
      )}
    </section>
  );
}
