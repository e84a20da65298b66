import type { ConnectionStatus } from '@chat/client';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { Notice } from '../chat/notices';
import { useLive } from './live-session-context';

// Each store's snapshot doubles as its server snapshot, so components also render with react-dom/server
// (the component tests render to markup in Node, where jsdom cannot run).

export function useConnectionStatus(): ConnectionStatus {
  const live = useLive();
  const subscribe = useCallback((cb: () => void) => live.socket.on('status', cb), [live]);
  const snapshot = () => live.socket.status;
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

export function useTypingUsers(roomId: string): readonly string[] {
  const live = useLive();
  const subscribe = useCallback((cb: () => void) => live.typing.on('change', cb), [live]);
  const snapshot = () => live.typing.typingIn(roomId);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** Messages waiting in the outbox (queued or in flight), across rooms. */
export function useQueuedCount(): number {
  const live = useLive();
  const subscribe = useCallback((cb: () => void) => live.outbox.on('change', cb), [live]);
  const snapshot = () => live.outbox.list().filter((i) => i.state !== 'failed').length;
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

export function useNotices(): readonly Notice[] {
  const live = useLive();
  return useSyncExternalStore(live.notices.subscribe, live.notices.current, live.notices.current);
}

/**
 * The current time, re-read every `ms` while `active` (a countdown); frozen otherwise. When a countdown
 * starts again (the connection dropped a second time) the first render already has the time of now, not the
 * moment the previous countdown stopped: otherwise it shows a wait minutes long until the first tick.
 */
export function useNow(active: boolean, ms = 250): number {
  const [now, setNow] = useState(() => Date.now());
  const [wasActive, setWasActive] = useState(active);
  if (active !== wasActive) {
    // Adjusting state while rendering: React renders again before anything reaches the screen.
    setWasActive(active);
    if (active) setNow(Date.now());
  }
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

/**
 * When these users were last seen (for those offline); asks the server once for the ones not known yet.
 * Returns a lookup that changes whenever any entry does.
 */
export function useLastSeen(userIds: readonly string[]): (userId: string) => string | undefined {
  const live = useLive();
  useSyncExternalStore(live.lastSeen.subscribe, live.lastSeen.current, live.lastSeen.current);
  const key = userIds.join(',');
  useEffect(() => {
    if (key) live.lastSeen.want(key.split(','));
  }, [live, key]);
  return (userId) => live.lastSeen.of(userId);
}

/**
 * True once `condition` has held for `ms` without a break; false again as soon as it stops. For what is
 * worth saying only when it lasts (a first connection that is not quick), not as a flash on every page load.
 */
export function useHeldFor(condition: boolean, ms: number): boolean {
  const [held, setHeld] = useState(false);
  const [was, setWas] = useState(condition);
  if (condition !== was) {
    // Adjusting state while rendering, as in useNow: a new stretch starts unheld.
    setWas(condition);
    setHeld(false);
  }
  useEffect(() => {
    if (!condition) return;
    const t = setTimeout(() => setHeld(true), ms);
    return () => clearTimeout(t);
  }, [condition, ms]);
  return condition && held;
}
