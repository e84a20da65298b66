import { Readable } from 'node:stream';
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
}

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
      // Uploads are streamed with their exact length; no checksum of the whole body ahead of sending it.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Readable, opts: { size: number; contentType: string }): Promise<void> {
    const counted = body.pipe(new ExactLength(opts.size));
    body.once('error', (err) => counted.destroy(err));
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: counted, ContentLength: opts.size, ContentType: opts.contentType }));
      // The request may have succeeded with the body's error raised after its last byte went out.
      if (counted.errored) throw counted.errored;
    } catch (err) {
      counted.destroy();
      await this.delete(key).catch(() => undefined);
      throw counted.errored ?? err;
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
