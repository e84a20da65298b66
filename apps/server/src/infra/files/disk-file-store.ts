import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileSizeMismatchError, type FileStore } from './file-store';

const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const TEMPORARY = '.tmp';

/**
 * Files on the local disk under one root: the embedded mode's store, and nodes sharing one host. Bytes go
 * to a temporary file first and are renamed into place (atomically, same file system) only when exactly
 * `size` of them arrived and were flushed, so a reader never sees half a file and a failed upload leaves none.
 */
export class DiskFileStore implements FileStore {
  readonly kind = 'disk';

  constructor(private readonly root: string) {}

  async put(key: string, body: Readable, opts: { size: number; contentType: string }): Promise<void> {
    const target = this.pathOf(key);
    const tmpDir = path.join(this.root, TEMPORARY);
    await mkdir(tmpDir, { recursive: true });
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(tmpDir, randomBytes(12).toString('hex'));
    // The file is created here, before any byte flows: a stream that opened it itself could still be opening
    // when a refused upload's error arrives, and create the file after the clean-up below removed nothing.
    const handle = await open(tmp, 'wx');
    try {
      // `flush`: the stream syncs the file to disk before it closes it, and the pipeline ends only then.
      await pipeline(body, new ExactLength(opts.size), handle.createWriteStream({ flush: true }));
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<{ body: Readable; size: number } | undefined> {
    const file = this.pathOf(key);
    try {
      const { size } = await stat(file);
      return { body: createReadStream(file), size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await unlink(this.pathOf(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, 2 /* W_OK */);
  }

  /** Removes temporary files older than `olderThanMs`: uploads whose process died before finishing. */
  async sweepTemporary(olderThanMs: number): Promise<number> {
    const dir = path.join(this.root, TEMPORARY);
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs >= olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    if (!KEY.test(key) || key.startsWith(TEMPORARY)) throw new Error(`invalid file key: ${JSON.stringify(key)}`);
    return path.join(this.root, key);
  }
}

/** Passes exactly `size` bytes; more, or fewer by the end, fails the stream with FileSizeMismatchError. */
export class ExactLength extends Transform {
  private received = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.size) return done(new FileSizeMismatchError(this.size, Infinity));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    done(this.received === this.size ? null : new FileSizeMismatchError(this.size, this.received));
  }
}
