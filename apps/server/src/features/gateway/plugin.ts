import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { bearer } from '../../http/bearer';
import { GatewayBridge } from './bridge';

/** Where bots and clients that do not speak Socket.IO connect (docs/PROTOCOL.md, "Raw WebSocket gateway"). */
const GATEWAY_PATH = '/gateway';

/**
 * The raw WebSocket gateway: JSON frames for bots, services and clients in other languages, with the same
 * events, acknowledgements, errors, `hello` and `sync` as protocol v1 (features/gateway/bridge.ts). The
 * token comes in `Authorization: Bearer …` or, where a client cannot set headers, `?token=…`.
 *
 * Upgrades reach @fastify/websocket only for GATEWAY_PATH (engine.io takes `/socket.io/`, with
 * `destroyUpgrade: false` so it leaves the others alone); anything else is answered 404 here. The upgrade
 * request goes through Fastify's hooks like any request (origin allowlist, request id, logs).
 */
async function gateway(app: FastifyInstance): Promise<void> {
  const upgrades = new EventEmitter();
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?', 1)[0];
    if (path === GATEWAY_PATH) upgrades.emit('upgrade', request, socket, head);
    else if (!path?.startsWith('/socket.io/')) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade);
  });
  await app.register(websocket, { options: { server: upgrades as never, maxPayload: 2 * 1024 * 1024 } });

  const bridges = new Set<GatewayBridge>();
  new Gauge({
    name: 'chat_gateway_clients',
    help: 'Raw WebSocket gateway clients connected to this node',
    registers: [app.metrics.registry],
    collect() {
      this.set(bridges.size);
    },
  });
  app.addHook('preClose', async () => {
    for (const bridge of bridges) bridge.close(1012, 'node shutting down: reconnect');
  });

  const selfUrl = () => {
    const { address, port, family } = app.server.address() as AddressInfo;
    const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : family === 'IPv6' ? `[${address}]` : address;
    return `http://${host}:${port}`;
  };

  app.get(GATEWAY_PATH, { websocket: true }, (ws, request) => {
    const query = request.query as { token?: unknown };
    const token = bearer(request.headers.authorization) ?? (typeof query.token === 'string' ? query.token : undefined);
    const bridge = new GatewayBridge(ws, {
      selfUrl: selfUrl(),
      token,
      clientAddress: request.clientAddress,
      maxBufferedBytes: app.config.slowReaders.maxBufferedBytes,
      onClosed: () => bridges.delete(bridge),
    });
    bridges.add(bridge);
  });
}

export const gatewayFeature = fp(gateway, { name: 'gateway', dependencies: ['infrastructure', 'http-policy', 'socket-server'] });
