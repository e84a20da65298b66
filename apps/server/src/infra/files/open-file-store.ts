import type { FileStoreConfig } from '../../config';
import { DiskFileStore } from './disk-file-store';
import type { FileStore } from './file-store';
import { S3FileStore } from './s3-file-store';

/** The configured file store, ready to take bytes (the S3 bucket is created when it does not exist yet). */
export async function openFileStore(config: FileStoreConfig): Promise<FileStore> {
  if (config.kind === 'disk') return new DiskFileStore(config.dir);
  const store = new S3FileStore({
    endpoint: config.endpoint,
    region: config.region,
    bucket: config.bucket,
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
  });
  try {
    await store.ensureBucket();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
