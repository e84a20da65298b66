import type { ConnectionState, OutboxItem } from '@chat/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useLive } from './live-session-context';

export function useConnectionState(): ConnectionState {
  const live = useLive();
  const subscribe = useCallback((cb: () => void) => live.socket.on('connection', cb), [live]);
  return useSyncExternalStore(subscribe, () => live.socket.connectionState);
}

export function useTypingUsers(roomId: string): readonly string[] {
  const live = useLive();
  const subscribe = useCallback((cb: () => void) => live.typing.on('change', cb), [live]);
  return useSyncExternalStore(subscribe, () => live.typing.typingIn(roomId));
}

export function useOutboxItems(roomId: string): readonly OutboxItem[] {
  const live = useLive();
  return useSyncExternalStore(live.outboxView.subscribe, () => live.outboxView.itemsIn(roomId));
}
