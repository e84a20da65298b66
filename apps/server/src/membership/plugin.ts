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
  app.decorate('membership', new Membership(app.db, app.io, (userIds) => app.reads.fence(userIds)));
}

export const membershipPlugin = fp(membership, { name: 'membership', dependencies: ['infrastructure'] });
