import type { FastifyBaseLogger } from 'fastify';
import type { FileStoreConfig } from '../../config';
import { DiskFileStore } from './disk-file-store';
import type { FileStore } from './file-store';

/** The configured file store, ready to take bytes (the S3 bucket is created when it does not exist yet). */
export async function openFileStore(config: FileStoreConfig, logger: FastifyBaseLogger): Promise<FileStore> {
  if (config.kind === 'disk') return new DiskFileStore(config.dir);
  // Loaded only when configured: the S3 client is most of the bundle's code a disk-only node never runs.
  const { S3FileStore } = await import('./s3-file-store');
  const store = new S3FileStore({
    endpoint: config.endpoint,
    region: config.region,
    bucket: config.bucket,
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    logger: logger.child({ component: 'file-store' }),
  });
  try {
    await store.ensureBucket();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
