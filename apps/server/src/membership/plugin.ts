import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Membership } from './membership';

declare module 'fastify' {
  interface FastifyInstance {
    /** Room membership: access checks, every membership write, and the announcements (membership/membership.ts). */
    membership: Membership;
  }
}

/** Shared by rooms, moderation, messages and typing, so it lives outside any feature. */
async function membership(app: FastifyInstance): Promise<void> {
  const membership = new Membership(
    app.db,
    app.io,
    (userIds) => app.reads.fence(userIds),
    (roomIds) => app.reads.fenceRooms(roomIds),
  );
  app.decorate('membership', membership);
  // Joins and leaves travel to other nodes' sockets through the adapter: after the bus was cut, re-read them.
  app.bus.onResume(() => {
    const started = Date.now();
    membership.resyncLocalSockets().then(
      ({ left, joined }) => app.log.info({ left, joined, ms: Date.now() - started }, 'room channels resynchronised after the cluster bus came back'),
      (err: unknown) => app.log.error({ err }, 'resynchronising room channels failed'),
    );
  });
}

export const membershipPlugin = fp(membership, { name: 'membership', dependencies: ['infrastructure'] });
