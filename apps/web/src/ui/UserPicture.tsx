import { useQuery } from '@tanstack/react-query';
import { membersQuery } from '../chat/queries';
import { useLive } from './live-session-context';

/** A person's picture, or their initial on a grey disc when they have none. Decorative: their name is beside it. */
export function UserPicture({ name, avatarUrl, size = 'h-7 w-7' }: { name: string; avatarUrl: string | undefined; size?: string }) {
  const live = useLive();
  if (avatarUrl) return <img src={new URL(avatarUrl, live.baseUrl).toString()} alt="" data-avatar className={`${size} shrink-0 rounded-full object-cover`} />;
  return (
    <span aria-hidden data-avatar className={`${size} flex shrink-0 items-center justify-center rounded-full bg-slate-300 text-xs font-semibold uppercase text-slate-700`}>
      {[...name][0] ?? '?'}
    </span>
  );
}

/** A room member's picture address, from the room's member list (kept current by `member:updated`). */
export function useMemberAvatar(roomId: string, userId: string): string | undefined {
  const live = useLive();
  return useQuery({ ...membersQuery(live.api, roomId), select: (list) => list.find((m) => m.userId === userId)?.avatarUrl }).data;
}
