import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { ExactLength } from './disk-file-store';
import type { FileStore } from './file-store';

export interface S3FileStoreOptions {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bucket in the path (`http://host/bucket/key`), as MinIO and most self-hosted stores expect; default true. */
  forcePathStyle?: boolean;
  /** Where the SDK's own warnings go (the node's logger); by default nowhere: failures reach the caller anyway. */
  logger?: { debug(msg: string): void; info(msg: string): void; warn(msg: string): void; error(msg: string): void };
}

const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Files in any S3-compatible object store (the cluster's store; Compose runs MinIO). One PutObject per
 * file, sent only with the whole body in hand (spooled to a temporary file while it is counted), so an
 * upload cut off half-way, or longer or shorter than it said, never reaches the store.
 */
export class S3FileStore implements FileStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(opts: S3FileStoreOptions) {
    this.bucket = opts.bucket;
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle ?? true,
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      logger: opts.logger ?? SILENT,
      // Uploads are streamed with their exact length; no checksum of the whole body ahead of sending it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Readable, opts: { size: number; contentType: string }): Promise<void> {
    // The body is spooled to a temporary file first and sent only once exactly `size` bytes arrived: the
    // store never sees an incomplete request. (An S3 server is not trusted to drop one: s3rver kept the
    // part of an aborted PUT that had arrived.)
    const dir = await mkdtemp(path.join(tmpdir(), 'chat-upload-'));
    const spool = path.join(dir, 'body');
    try {
      // Opened before any byte flows, as in DiskFileStore: a stream opening the file itself could create it
      // after the clean-up below removed the directory.
      const handle = await open(spool, 'wx');
      await pipeline(body, new ExactLength(opts.size), handle.createWriteStream());
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(spool), ContentLength: opts.size, ContentType: opts.contentType }),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async get(key: string): Promise<{ body: Readable; size: number } | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(out.Body instanceof Readable)) throw new Error('the S3 client answered without a Node stream');
      return { body: out.Body, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Creates the bucket when it does not exist yet (a fresh MinIO, the tests' server). */
  async ensureBucket(): Promise<void> {
    try {
      await this.check();
    } catch (err) {
      if (!isMissing(err)) throw err;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((e: unknown) => {
        // Another node made it meanwhile.
        if (!(e instanceof S3ServiceException && (e.name === 'BucketAlreadyOwnedByYou' || e.name === 'BucketAlreadyExists'))) throw e;
      });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function isMissing(err: unknown): boolean {
  return err instanceof NoSuchKey || err instanceof NotFound || (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchBucket'));
}
