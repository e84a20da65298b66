import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { roomsQuery } from '../chat/queries';
import { badgeIcon, tabTitle, totalUnread } from '../chat/tab-badge';
import { useLive } from './live-session-context';

const PLAIN_ICON = '/favicon.svg';

/** The unread count in the tab's title and as a badge on its favicon; both back to plain on sign-out. */
export function useTabBadge(): void {
  const live = useLive();
  const rooms = useQuery({ ...roomsQuery(live.api), select: totalUnread });
  const unread = rooms.data ?? 0;
  useEffect(() => {
    document.title = tabTitle(unread);
    const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    if (icon) icon.href = badgeIcon(unread) ?? PLAIN_ICON;
  }, [unread]);
  useEffect(
    () => () => {
      document.title = tabTitle(0);
      document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.setAttribute('href', PLAIN_ICON);
    },
    [],
  );
}
