import type { ConnectionStatus } from '@chat/client';

export interface Banner {
  tone: 'info' | 'warning' | 'error';
  text: string;
  /** Offer "Retry now" (there is a wait to cut short, or nothing scheduled at all). */
  canRetry: boolean;
}

function seconds(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s === 1 ? '1 second' : `${s} seconds`;
}

/**
 * What the connection banner says: nothing while connected; otherwise the state in words, with the
 * countdown to the next (jittered) attempt when one is scheduled, and how many messages wait to be sent.
 */
export function bannerFor(status: ConnectionStatus, now: number, queued: number): Banner | undefined {
  const waiting = queued === 0 ? '' : queued === 1 ? ' 1 message will be sent when it is back.' : ` ${queued} messages will be sent when it is back.`;
  const left = status.retryAt === undefined ? undefined : status.retryAt - now;
  const busy = status.lastError?.code === 'RATE_LIMITED';
  switch (status.state) {
    case 'connected':
      return undefined;
    case 'connecting':
      if (left === undefined) return { tone: 'info', text: 'Connecting…', canRetry: false };
      return { tone: 'warning', text: `${busy ? 'The server is busy.' : 'Cannot reach the server.'} Retrying in ${seconds(left)}.${waiting}`, canRetry: true };
    case 'reconnecting':
      if (left === undefined || left <= 0) return { tone: 'warning', text: `Connection lost. Reconnecting…${waiting}`, canRetry: false };
      return {
        tone: 'warning',
        text: `${busy ? 'Connection lost; the server is busy.' : 'Connection lost.'} Reconnecting in ${seconds(left)}.${waiting}`,
        canRetry: true,
      };
    case 'draining':
      return {
        tone: 'info',
        text: left === undefined || left <= 0 ? 'The server is restarting. Moving you to another one…' : `The server is restarting. Moving you to another one in ${seconds(left)}.`,
        canRetry: false,
      };
    case 'offline':
      return { tone: 'error', text: `You are offline. Nothing you write is lost.${waiting}`, canRetry: true };
  }
}
