import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './nginx';

/** The compiled node (`pnpm build`): what `pnpm start`, `pnpm cluster` and the Docker image run with `node`. */
export const SERVER_ENTRY = join(REPO_ROOT, 'apps/server/dist/main.js');

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
