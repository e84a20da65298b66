import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './nginx';

/** The compiled node (`pnpm build`): what `pnpm start`, `pnpm cluster` and the Docker image run with `node`. */
export const SERVER_ENTRY = join(REPO_ROOT, 'apps/server/dist/main.js');

/**
 * The Node.js flags every node runs with, here as in `pnpm start` (apps/server/package.json) and the image's
 * CMD (deploy/Dockerfile; `deploy.static.test.ts` checks both carry them). A young generation of up to 64 MB
 * per semi-space instead of V8's 16: a node under load allocated enough to scavenge six times a second, 5–10
 * ms each, and copied short-lived objects (a batch's sends, their acks and broadcasts) that a larger space
 * lets die first. Measured in docs/performance.md, "A larger young generation".
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/**
 * Builds {@link SERVER_ENTRY} if any file it is made of changed since it was last built (a no-op
 * otherwise), so node processes started by tests and benchmarks run what ships, from the current sources.
 * Returns the entry's path.
 */
export function ensureServerBuild(): string {
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'apps/server/scripts/build.mjs'), '--if-stale'], { stdio: 'pipe' });
  } catch (error) {
    const output = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`building the server (apps/server/scripts/build.mjs) failed:\n${output}`, { cause: error });
  }
  return SERVER_ENTRY;
}
