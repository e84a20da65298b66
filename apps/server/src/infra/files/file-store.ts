import type { Readable } from 'node:stream';

/**
 * Where uploaded files' bytes live. The database holds what a file is (room, message, name, type, size);
 * a store holds only bytes under an opaque key. Implementations: the local disk (embedded mode, one host)
 * and any S3-compatible object store (cluster). One contract suite (test/infra/file-store.contract.test.ts)
 * runs against both.
 */
export interface FileStore {
  /** For logs and `/readyz`: 'disk' or 's3'. */
  readonly kind: 'disk' | 's3';
  /**
   * Stores exactly `size` bytes read from `body` under `key`. Rejects (and leaves nothing under `key`, not
   * even a partial object) when the stream errors or is destroyed, ends before `size` bytes, or carries more
   * than `size` bytes; the error of a short or long body is a `FileSizeMismatchError`. An existing object
   * under the key is replaced.
   */
  put(key: string, body: Readable, opts: { size: number; contentType: string }): Promise<void>;
  /** The object's bytes as a stream, or undefined when there is none under `key`. */
  get(key: string): Promise<{ body: Readable; size: number } | undefined>;
  /** Removes the object; a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export class FileSizeMismatchError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`expected ${expected} bytes, received ${received === Infinity ? 'more' : received}`);
    this.name = 'FileSizeMismatchError';
  }
}
