import { randomBytes } from 'node:crypto';
import type { ClientAddressResolver } from '../http/client-address';
import type { ChatSocket } from './types';

/**
 * A secret of this process, never sent anywhere else: the raw WebSocket gateway (features/gateway) carries
 * each of its clients into Socket.IO through a connection of its own to this node, from loopback, and says
 * with this key whose connection it is. Only a handshake that shows it may name its client's address.
 */
export const IN_PROCESS_BRIDGE_KEY = randomBytes(32).toString('hex');

/** What the gateway's bridge puts in the handshake's `auth`, beside the client's token. */
export interface BridgeHandshake {
  bridgeKey: string;
  /** The gateway client's address (as the TRUST_PROXY rule found it on the WebSocket upgrade). */
  clientAddress: string;
}

/**
 * The client's address of a Socket.IO handshake: by the TRUST_PROXY rule, or, for the gateway's own
 * in-process connection (the key matches), the address of the gateway client it carries.
 */
export function handshakeAddress(resolve: ClientAddressResolver, socket: ChatSocket): string {
  const auth = socket.handshake.auth as Partial<BridgeHandshake> | undefined;
  if (auth?.bridgeKey === IN_PROCESS_BRIDGE_KEY && typeof auth.clientAddress === 'string') return auth.clientAddress;
  return resolve(socket.handshake.address, socket.handshake.headers['x-forwarded-for']);
}
