import { pipeline, Readable } from 'node:stream';
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
 * file with its exact length: S3 stores an object only when the whole body arrived, so an upload cut off
 * half-way leaves nothing; the body is also counted on the way (`ExactLength`), and on any failure the key
 * is deleted in case the store kept something regardless.
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
    // A body that fails (short, long, or its client gone) aborts the request: S3 then stores nothing, where a
    // request left waiting for its missing bytes would hang until a timeout.
    const aborted = new AbortController();
    const counted = new ExactLength(opts.size);
    let failure: unknown;
    pipeline(body, counted, (err) => {
      if (!err) return;
      failure = err;
      aborted.abort(err);
    });
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: counted, ContentLength: opts.size, ContentType: opts.contentType }), { abortSignal: aborted.signal });
      // The request may have completed before the body reported its error (a long body's extra bytes).
      if (failure !== undefined) throw failure;
    } catch (err) {
      // In case the store kept something regardless.
      await this.delete(key).catch(() => undefined);
      throw failure ?? err;
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
