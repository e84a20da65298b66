import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userIds } from './process';

/**
 * A fresh directory under the OS temp dir, owned by `owner` when given (and we are root), so a server
 * running as that user can create its data, sockets and lock files in it.
 */
export function makeTempDir(prefix: string, owner?: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ids = owner ? userIds(owner) : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  return dir;
}

export function removeDir(dir: string): void {
  // Retries cover a killed server's children that are still exiting and releasing files.
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
