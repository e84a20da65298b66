import { ChatError, FILE_CONTENT_TYPES, HTTP_ROUTES, HttpErrorBodySchema, LIMITS, routePath, type Attachment, type FileContentType } from '@chat/protocol';

export interface UploadTarget {
  baseUrl: string;
  roomId: string;
  /** The id of the message the file goes out with (PROTOCOL.md "Files"). */
  messageId: string;
  token: string | undefined;
}

export interface Upload {
  done: Promise<Attachment>;
  abort(): void;
}

/** Why a file cannot be sent at all, checked before a byte is uploaded (the server checks the same). */
export function fileProblem(file: { size: number; type: string }): string | undefined {
  if (file.size === 0) return 'This file is empty.';
  if (file.size > LIMITS.fileMaxBytes) return `Too large: files can be up to ${Math.round(LIMITS.fileMaxBytes / (1024 * 1024))} MB.`;
  if (!(FILE_CONTENT_TYPES as readonly string[]).includes(file.type)) return 'This kind of file cannot be sent (images, PDF, text and ZIP can).';
  return undefined;
}

export function isImage(type: FileContentType): boolean {
  return type.startsWith('image/');
}

/**
 * One upload with progress: XMLHttpRequest, because fetch reports no upload progress. Aborting it (the
 * user's cancel) closes the request, and the server keeps nothing of it.
 */
export function uploadFile(target: UploadTarget, file: Blob & { name: string }, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Attachment>((resolve, reject) => {
    const url = new URL(routePath(HTTP_ROUTES.uploadFile, { roomId: target.roomId }), target.baseUrl);
    url.searchParams.set('messageId', target.messageId);
    url.searchParams.set('name', file.name || 'file');
    xhr.open('POST', url);
    if (target.token) xhr.setRequestHeader('authorization', `Bearer ${target.token}`);
    xhr.setRequestHeader('content-type', file.type);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) return resolve((body as { file: Attachment }).file);
      const parsed = HttpErrorBodySchema.safeParse(body);
      reject(parsed.success ? new ChatError(parsed.data.error.code, parsed.data.error.message) : new ChatError(xhr.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'UNAVAILABLE', `upload failed (HTTP ${xhr.status})`));
    };
    xhr.onerror = () => reject(new ChatError('UNAVAILABLE', 'the upload was interrupted'));
    xhr.onabort = () => reject(new ChatError('UNAVAILABLE', 'cancelled'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
