import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * The Content-Security-Policy of every answer (issue 9, item 6): the web app loads scripts, styles, fonts and
 * its socket from its own origin only, images from there or from data:/blob: URLs (previews), and nothing
 * may frame it. NGINX sends the same policy on what it serves itself (nginx/security-headers.conf; a test
 * holds the two equal).
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'none'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
};

/**
 * Security headers on every answer of the node, API and (embedded mode) web app alike, through helmet:
 * the policy above, `nosniff`, no framing, no referrer, a same-origin opener. HSTS is left to NGINX,
 * which knows whether the answer went over TLS (a node behind it speaks plain HTTP).
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
  });
}
