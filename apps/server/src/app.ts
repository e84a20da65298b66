import { randomUUID } from 'node:crypto';
import type { Database } from '@chat/db';
import { LIMITS } from '@chat/protocol';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { ServerOptions } from 'socket.io';
import type { Config } from './config';
import { admissionFeature } from './features/admission/plugin';
import { authFeature } from './features/auth/plugin';
import { filesFeature } from './features/files/plugin';
import { gatewayFeature } from './features/gateway/plugin';
import { messagesFeature } from './features/messages/plugin';
import { moderationFeature } from './features/moderation/plugin';
import { operatorApiFeature } from './features/ops/operator-api';
import { opsFeature } from './features/ops/plugin';
import { presenceFeature } from './features/presence/plugin';
import { roomsFeature } from './features/rooms/plugin';
import { profileFeature } from './features/profile/plugin';
import { typingFeature } from './features/typing/plugin';
import { webFeature } from './features/web/plugin';
import { httpPolicyPlugin } from './http/http-policy';
import { isOriginAllowed } from './http/origin-policy';
import { infrastructurePlugin } from './infra/plugin';
import { membershipPlugin } from './membership/plugin';
import { socketServerPlugin } from './socket/socket-server';

export interface AppOverrides {
  /** An already open database (tests share one PGlite across apps to restart a node on the same data). */
  database?: Database;
}

/**
 * Builds one backend node: Fastify with Socket.IO attached to its HTTP server, the infrastructure chosen
 * once from configuration, and every feature registered as an encapsulated plugin. Listening, signals and
 * draining belong to main.ts, so tests build the same app and listen on port 0.
 */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<FastifyInstance> {
  const app = Fastify(serverOptions(config));
  // Infrastructure first: its onClose hook then runs last, after every feature has flushed what it holds.
  await app.register(infrastructurePlugin, { config, database: overrides.database, socketOptions: socketOptions(config) });
  await app.register(httpPolicyPlugin);
  // Admission's handshake middleware before the features' steps: a refused connection costs no token
  // check or database read.
  await app.register(admissionFeature);
  await app.register(socketServerPlugin);
  for (const plugin of [
    membershipPlugin,
    opsFeature,
    authFeature,
    operatorApiFeature,
    presenceFeature,
    roomsFeature,
    profileFeature,
    moderationFeature,
    messagesFeature,
    filesFeature,
    typingFeature,
    gatewayFeature,
    webFeature,
  ]) {
    await app.register(plugin);
  }
  await app.ready();
  return app;
}

/** Socket.IO's options. NGINX's proxy timeouts (nginx/) stay above pingInterval + pingTimeout. */
function socketOptions(config: Config): Partial<ServerOptions> {
  return {
    path: '/socket.io',
    // Clients bundle socket.io-client (@chat/client); the node does not serve it (nor could it from the
    // compiled bundle, which does not carry socket.io's client-dist files).
    serveClient: false,
    maxHttpBufferSize: LIMITS.socketPayloadMaxBytes,
    // Upgrades on other paths belong to the raw WebSocket gateway (features/gateway), not to engine.io,
    // which would otherwise destroy them after a second.
    destroyUpgrade: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    allowRequest: (req, callback) => callback(null, isOriginAllowed(req.headers.origin, req.headers.host, config.allowedOrigins)),
  };
}

function serverOptions(config: Config): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      base: { node: config.nodeId },
      // Never log credentials.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: {
        // The client's address by the TRUST_PROXY rule (Fastify's own trustProxy is off; see http/client-address.ts).
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: request.url,
          version: request.headers['accept-version'] as string | undefined,
          host: request.host,
          remoteAddress: request.clientAddress,
          remotePort: request.socket.remotePort,
        }),
      },
    },
    // Opening the database runs migrations (PGlite opens its files first): no plugin deadline, as before
    // plugins held the infrastructure; the pools' own connection and statement timeouts bound it.
    pluginTimeout: 0,
    bodyLimit: LIMITS.httpBodyMaxBytes,
    // NGINX's $request_id (32 hex digits) or any short well-formed id from whoever is in front; anything
    // else is replaced, so a client cannot write into the logs through this header (docs/cluster.md).
    requestIdHeader: false,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    forceCloseConnections: true,
    // Inputs are validated with zod (errors.ts parseInput), never with route JSON schemas; without these
    // stubs Fastify would load Ajv and fast-json-stringify at every start for nothing.
    schemaController: { compilersFactory: { buildValidator: noJsonSchemaCompiler, buildSerializer: noJsonSchemaCompiler } },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The caller's request id when it is well formed, else a fresh one (the `reqId` of the request's log lines). */
function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

function noJsonSchemaCompiler(): never {
  throw new Error('route JSON schemas are not compiled here: validate with zod (errors.ts parseInput)');
}
