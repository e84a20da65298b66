import { useQuery } from '@tanstack/react-query';
import { membersQuery } from '../chat/queries';
import { typingText } from '../chat/typing-text';
import { useTypingUsers } from './live-hooks';
import { useLive } from './live-session-context';

export function TypingIndicator({ roomId }: { roomId: string }) {
  const live = useLive();
  const userIds = useTypingUsers(roomId);
  const members = useQuery({ ...membersQuery(live.api, roomId), enabled: userIds.length > 0 });
  const names = userIds.map((id) => members.data?.find((m) => m.userId === id)?.displayName ?? 'Someone');
  return (
    <p aria-live="polite" className="h-6 bg-slate-50 px-4 text-xs italic text-slate-500">
      {typingText(names)}
    </p>
  );
}
