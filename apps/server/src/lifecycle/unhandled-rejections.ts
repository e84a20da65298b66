import type { FastifyBaseLogger } from 'fastify';

/**
 * A promise rejected with nobody listening is a bug, but one that must not end the node: Node.js's default
 * (`--unhandled-rejections=throw`) would drop every socket of the process for one forgotten `.catch`. The
 * node's process entry installs this once: the rejection is logged with its stack and counted, and the
 * node goes on. (An uncaught exception still ends the process: its state is unknown after one.)
 */
export function keepRunningOnUnhandledRejections(log: FastifyBaseLogger, counted: () => void = () => {}): () => void {
  const onRejection = (reason: unknown) => {
    counted();
    log.error({ err: reason }, 'unhandled promise rejection (a bug: the node keeps running)');
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
