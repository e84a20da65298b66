import type { ConnectionState } from '@chat/client';

/** What the banner says for each connection state; nothing when all is well. */
export function connectionLabel(state: ConnectionState): string | undefined {
  switch (state) {
    case 'connected':
      return undefined;
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting':
    case 'draining':
      return 'Connection lost. Reconnecting…';
    case 'offline':
      return 'Offline. Messages will be sent when the connection is back.';
  }
}
