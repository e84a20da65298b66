import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startS3Server, waitUntil, type S3Server } from '@chat/testkit';
import { DiskFileStore } from '../../src/infra/files/disk-file-store';
import { FileSizeMismatchError, type FileStore } from '../../src/infra/files/file-store';
import { S3FileStore } from '../../src/infra/files/s3-file-store';

/**
 * One contract for every file store: the disk (a temporary root) and S3 (a real S3-compatible server,
 * s3rver in its own process, a fresh bucket per store). An upload that is too long, too short or cut off
 * half-way must leave nothing under its key, and nothing else behind either (`leftovers`).
 */

interface Subject {
  store: FileStore;
  /** Everything the store holds, by its own listing (files under the disk root; objects in the bucket). */
  leftovers(): Promise<string[]>;
  dispose(): Promise<void>;
}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

const implementations: [string, () => Promise<Subject>][] = [
  [
    'disk',
    async () => {
      const root = mkdtempSync(path.join(tmpdir(), 'file-store-'));
      const store = new DiskFileStore(root);
      return { store, leftovers: async () => filesUnder(root), dispose: async () => rmSync(root, { recursive: true, force: true }) };
    },
  ],
  [
    's3',
    async () => {
      const bucket = `files-${randomBytes(4).toString('hex')}`;
      const store = new S3FileStore({ endpoint: s3.endpoint, region: s3.region, bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
      await store.ensureBucket();
      const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      const listing = async () => ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
      return {
        store,
        leftovers: listing,
        dispose: async () => {
          client.destroy();
          await store.close();
        },
      };
    },
  ],
];

const bytes = (n: number) => randomBytes(n);
async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
/** A body that sends `data` in small chunks, then fails with `error` (a client that goes away). */
function cutOff(data: Buffer, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(data);
      } else this.destroy(error);
    },
  });
}

describe.each(implementations)('FileStore contract: %s', (_name, make) => {
  let subject: Subject;
  let store: FileStore;
  beforeEach(async () => {
    subject = await make();
    store = subject.store;
  });
  afterEach(() => subject.dispose());

  test('what is put is got back, byte for byte and with its size, small and large', async () => {
    for (const [key, data] of [
      ['ab/small', bytes(3000)],
      ['cd/large', bytes(1024 * 1024 + 17)],
    ] as const) {
      await store.put(key, Readable.from([data]), { size: data.length, contentType: 'application/zip' });
      const got = await store.get(key);
      expect(got?.size).toBe(data.length);
      expect((await readAll(got!.body)).equals(data)).toBe(true);
    }
  });

  test('a put replaces; a missing key is undefined; delete removes, and deleting nothing is fine', async () => {
    await store.put('k/one', Readable.from([Buffer.from('first')]), { size: 5, contentType: 'text/plain' });
    await store.put('k/one', Readable.from([Buffer.from('second')]), { size: 6, contentType: 'text/plain' });
    expect((await readAll((await store.get('k/one'))!.body)).toString()).toBe('second');
    expect(await store.get('k/none')).toBeUndefined();
    await store.delete('k/one');
    expect(await store.get('k/one')).toBeUndefined();
    await expect(store.delete('k/one')).resolves.toBeUndefined();
    await expect(store.check()).resolves.toBeUndefined();
  });

  test('a body longer or shorter than its size is refused and leaves nothing', async () => {
    const before = await subject.leftovers();
    await expect(store.put('x/long', Readable.from([bytes(101)]), { size: 100, contentType: 'text/plain' })).rejects.toBeInstanceOf(FileSizeMismatchError);
    await expect(store.put('x/short', Readable.from([bytes(99)]), { size: 100, contentType: 'text/plain' })).rejects.toBeInstanceOf(FileSizeMismatchError);
    expect(await store.get('x/long')).toBeUndefined();
    expect(await store.get('x/short')).toBeUndefined();
    expect(await subject.leftovers()).toEqual(before);
  });

  test('an upload cut off half-way is refused and leaves nothing', async () => {
    const before = await subject.leftovers();
    const gone = new Error('client went away');
    await expect(store.put('y/cut', cutOff(bytes(64 * 1024), gone), { size: 512 * 1024, contentType: 'image/png' })).rejects.toThrow();
    expect(await store.get('y/cut')).toBeUndefined();
    expect(await subject.leftovers()).toEqual(before);
  });
  test('a body that fails before its first byte leaves nothing either, however soon it fails', async () => {
    // A refused upload (a content check failing on the first chunk) errors while the store is still opening
    // its temporary file; the clean-up must not run before that file exists.
    const before = await subject.leftovers();
    for (let i = 0; i < 20; i++) {
      const refused = new Readable({ read() {} }).on('error', () => undefined); // the store's pipeline sees it too
      refused.destroy(new Error('not what it says'));
      await expect(store.put(`w/refused-${i}`, refused, { size: 100, contentType: 'image/png' })).rejects.toThrow('not what it says');
      expect(await subject.leftovers()).toEqual(before);
    }
  });
});

describe('DiskFileStore', () => {
  test('a key cannot leave the root', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'file-store-'));
    const store = new DiskFileStore(root);
    try {
      for (const key of ['../escape', '/abs', 'a/../../b', 'a\\b', 'nul\u0000', '.tmp/x', '']) {
        await expect(store.put(key, Readable.from([Buffer.from('x')]), { size: 1, contentType: 'text/plain' })).rejects.toThrow(/invalid file key/);
      }
      expect(filesUnder(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('DiskFileStore temporary files', () => {
  test('a temporary file left by a process that died mid-upload is swept once old enough, and only then', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'file-store-'));
    const store = new DiskFileStore(root);
    try {
      // A put whose body never ends, as a killed process leaves it: the temporary file exists, nothing else.
      const stalled = new Readable({ read() {} });
      stalled.push(Buffer.from('partial'));
      const put = store.put('z/stalled', stalled, { size: 100, contentType: 'text/plain' }).catch((err: unknown) => err);
      await waitUntil(async () => filesUnder(root).length === 1, { description: 'the temporary file written' });
      expect(filesUnder(root)[0]).toMatch(/^\.tmp\//);
      expect(await store.sweepTemporary(60_000)).toBe(0);
      expect(await store.sweepTemporary(0)).toBe(1);
      expect(filesUnder(root)).toEqual([]);
      stalled.destroy(new Error('gone'));
      await put;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
