import { createContext, use } from 'react';
import type { LiveSession } from '../chat/live-session';

export const LiveSessionContext = createContext<LiveSession | null>(null);

export function useLive(): LiveSession {
  const live = use(LiveSessionContext);
  if (!live) throw new Error('useLive outside LiveSessionContext');
  return live;
}
