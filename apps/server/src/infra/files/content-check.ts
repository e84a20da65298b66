import { Transform, type TransformCallback } from 'node:stream';
import { ChatError, type FileContentType } from '@chat/protocol';

/** The first bytes every file of an image type starts with; a file that claims the type but does not is refused. */
const IMAGE_SIGNATURES: Partial<Record<FileContentType, (head: Buffer) => boolean>> = {
  'image/png': (h) => h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff,
  'image/gif': (h) => ['GIF87a', 'GIF89a'].includes(h.subarray(0, 6).toString('latin1')),
  'image/webp': (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (h) => h.subarray(0, 5).toString('latin1') === '%PDF-',
  'application/zip': (h) => h[0] === 0x50 && h[1] === 0x4b && (h[2] === 0x03 || h[2] === 0x05) && (h[3] === 0x04 || h[3] === 0x06),
};

const HEAD_BYTES = 12;

/**
 * Passes the bytes through once their beginning matches the declared type (the types with a signature: images,
 * PDF, ZIP); text is passed as it is (it is only ever served as a download, never rendered). A mismatch
 * fails the stream with VALIDATION, so the store keeps nothing.
 */
export class ContentCheck extends Transform {
  private head: Buffer[] = [];
  private headLength = 0;
  private checked: boolean;

  constructor(private readonly type: FileContentType) {
    super();
    this.checked = IMAGE_SIGNATURES[type] === undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.checked) return done(null, chunk);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < HEAD_BYTES) return done();
    this.release(done);
  }

  override _flush(done: TransformCallback): void {
    if (this.checked) return done();
    this.release(done);
  }

  private release(done: TransformCallback): void {
    const all = Buffer.concat(this.head);
    this.head = [];
    this.checked = true;
    if (!IMAGE_SIGNATURES[this.type]!(all)) return done(new ChatError('VALIDATION', `the file is not ${this.type}`, { details: { field: 'Content-Type' } }));
    done(null, all);
  }
}
