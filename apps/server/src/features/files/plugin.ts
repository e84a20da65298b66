import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { asReadonly } from '@chat/db';
import { ChatError, FileContentTypeSchema, HTTP_ROUTES, LIMITS, type Attachment, type FileContentType } from '@chat/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { route } from '../../http/route';
import { DiskFileStore } from '../../infra/files/disk-file-store';
import { FileSizeMismatchError } from '../../infra/files/file-store';
import { ContentCheck } from '../../infra/files/content-check';
import { FileLinks } from './file-links';
import { abandonedUploads, filesForMessage, messageExists, storedFile } from './file-queries';

/** Pending rows older than this are uploads whose node died; swept with their bytes. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Files posted with messages (PROTOCOL.md "Files"). A member who may send in a room uploads the bytes for a
 * message id they are about to send (`POST /api/rooms/:roomId/files`, the body is the file, its type the
 * Content-Type header); the message then names the file ids (`message:send` `attachments`). Reading takes
 * two steps: a member asks for a link (`GET /api/files/:fileId/link`), and the link, signed and valid for
 * LIMITS.fileLinkSeconds, serves the bytes without a token (so `<img src>` works). A deleted message's files
 * are gone from both. Bytes are never served as anything a browser would run: only the allowed types, with
 * `nosniff`, a sandboxing CSP, and `attachment` for everything but images.
 *
 * Not wrapped in fastify-plugin: the raw-body content parser below must apply to these routes only.
 */
export async function filesFeature(app: FastifyInstance): Promise<void> {
  const { db, files: store, membership, moderation } = app;
  const primaryReads = asReadonly(db.primary);
  const links = new FileLinks(app.config.jwtSecret);

  // The upload's body is streamed to the store as it arrives, whatever its type: no parser may buffer it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  route(app, HTTP_ROUTES.uploadFile, async ({ params: { roomId }, query: { messageId, name } }, request, reply) => {
    const { userId } = request.user;
    const body = request.body as Readable | undefined;
    const type = FileContentTypeSchema.safeParse((request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase());
    if (!type.success) {
      throw new ChatError('VALIDATION', `files may be one of: ${FileContentTypeSchema.options.join(', ')}`, { details: { field: 'Content-Type' } });
    }
    const lengthHeader = request.headers['content-length'];
    const size = lengthHeader === undefined ? NaN : Number(lengthHeader);
    if (!Number.isSafeInteger(size) || size <= 0) throw new ChatError('VALIDATION', 'an upload needs a Content-Length of at least 1 byte', { details: { field: 'Content-Length' } });
    if (size > LIMITS.fileMaxBytes) throw new ChatError('PAYLOAD_TOO_LARGE', `files are limited to ${LIMITS.fileMaxBytes} bytes`, { details: { limit: LIMITS.fileMaxBytes } });
    await membership.requireMember(userId, roomId);
    await moderation.assertCanSend(roomId, userId);
    if (await messageExists(primaryReads, messageId)) throw new ChatError('CONFLICT', 'that message was already sent; upload files before sending it');
    if ((await filesForMessage(primaryReads, messageId, userId)) >= LIMITS.attachmentsPerMessage) {
      throw new ChatError('CONFLICT', `a message carries at most ${LIMITS.attachmentsPerMessage} files`);
    }
    if (!body) throw new ChatError('VALIDATION', 'the upload has no body');

    const id = randomUUID();
    const file: Attachment = { id, name, type: type.data, size };
    const storageKey = `${id.slice(0, 2)}/${id}`;
    await db.primary
      .insertInto('files')
      .values({ id, room_id: roomId, message_id: messageId, uploader_id: userId, name, content_type: type.data, size, storage_key: storageKey })
      .execute();
    try {
      const checked = new ContentCheck(type.data);
      // A client that goes away mid-upload destroys the request stream; pipeline passes that on to the store.
      pipeline(body, checked, () => undefined);
      await store.put(storageKey, checked, { size, contentType: type.data });
      await db.primary.updateTable('files').set({ state: 'stored' }).where('id', '=', id).execute();
    } catch (err) {
      await forget(id, storageKey);
      if (err instanceof ChatError) throw err;
      if (err instanceof FileSizeMismatchError) throw new ChatError('VALIDATION', 'the body is not Content-Length bytes long', { details: { field: 'Content-Length' } });
      if (request.raw.destroyed || request.raw.readableAborted) {
        request.log.info({ fileId: id }, 'upload interrupted by the client; nothing kept');
        return reply.status(400).send();
      }
      throw err;
    }
    reply.status(201);
    return { file };
  });

  route(app, HTTP_ROUTES.fileLink, async ({ params: { fileId } }, request) => {
    const { userId } = request.user;
    // From the primary: a replica that has not replayed a deletion yet would still hand out a link (the
    // bytes route checks the primary too, but a deleted message's file must get no new link at once).
    const file = await storedFile(primaryReads, fileId);
    // Before its message is sent only the uploader may see a file; after it is deleted nobody.
    if (!file || file.deleted || (!file.sent && file.uploader_id !== userId)) throw new ChatError('NOT_FOUND', 'no such file');
    await membership.requireMember(userId, file.room_id);
    return links.create(fileId);
  });

  route(app, HTTP_ROUTES.fileContent, async ({ params: { fileId }, query: { expires, signature } }, _request, reply) => {
    const secondsLeft = links.verify(fileId, expires, signature);
    if (secondsLeft === undefined) throw new ChatError('FORBIDDEN', 'this file link is invalid or has expired; ask for a new one');
    const file = await storedFile(primaryReads, fileId);
    if (!file || file.deleted) throw new ChatError('NOT_FOUND', 'no such file');
    const object = await store.get(file.storage_key);
    if (!object) throw new ChatError('NOT_FOUND', 'no such file');
    return sendFile(reply, file.content_type as FileContentType, file.name, object, secondsLeft);
  });

  async function forget(id: string, storageKey: string): Promise<void> {
    try {
      await store.delete(storageKey);
      await db.primary.deleteFrom('files').where('id', '=', id).execute();
    } catch (err) {
      // The sweeper removes the pending row and its bytes later.
      app.log.warn({ err, fileId: id }, 'could not remove a failed upload');
    }
  }

  const sweeper = setInterval(() => {
    void abandonedUploads(db.primary, ABANDONED_AFTER_MS, 100)
      .then(async (rows) => {
        for (const row of rows) await forget(row.id, row.storage_key);
        // A node killed mid-upload also left its temporary file on disk (S3 keeps nothing of a cut upload).
        if (store instanceof DiskFileStore) await store.sweepTemporary(ABANDONED_AFTER_MS);
      })
      .catch((err: unknown) => app.log.warn({ err }, 'sweeping abandoned uploads failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => clearInterval(sweeper));
}

/** The bytes, with headers that keep a browser from running or sniffing them. */
function sendFile(reply: FastifyReply, type: FileContentType, name: string, object: { body: Readable; size: number }, secondsLeft: number): FastifyReply {
  const inline = type.startsWith('image/');
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return reply
    .status(200)
    .header('content-type', type === 'text/plain' ? 'text/plain; charset=utf-8' : type)
    .header('content-length', String(object.size))
    .header('content-disposition', `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox")
    .header('cross-origin-resource-policy', 'same-origin')
    .header('cache-control', `private, max-age=${secondsLeft}`)
    .send(object.body);
}
