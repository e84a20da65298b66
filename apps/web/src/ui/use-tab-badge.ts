import { useQuery } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import { roomsQuery } from '../chat/queries';
import { badgeIcon, tabTitle, totalUnread } from '../chat/tab-badge';
import { useLive } from './live-session-context';

const PLAIN_ICON = '/favicon.svg';

/** The unread count in the tab's title and as a badge on its favicon; both back to plain on sign-out. */
export function useTabBadge(): void {
  const live = useLive();
  const choices = useSyncExternalStore(live.alerts.subscribe, live.alerts.current, live.alerts.current);
  const rooms = useQuery(roomsQuery(live.api));
  // Muted rooms do not count.
  const unread = totalUnread(rooms.data?.filter((r) => !choices.muted.includes(r.id)));
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
