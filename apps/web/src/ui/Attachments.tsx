import type { Attachment } from '@chat/protocol';
import { useQuery } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { isImage } from '../chat/file-upload';
import { fileLinkQuery } from '../chat/queries';
import { useLive } from './live-session-context';
import { useEscape } from './use-escape';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A message's files: images as previews that open full size, everything else as a download. */
export function Attachments({ files, own }: { files: readonly Attachment[]; own: boolean }) {
  return (
    <div className="mt-1 flex flex-wrap gap-2">
      {files.map((f) => (isImage(f.type) ? <ImageAttachment key={f.id} file={f} /> : <FileAttachment key={f.id} file={f} own={own} />))}
    </div>
  );
}

function useFileUrl(fileId: string): string | undefined {
  const live = useLive();
  const link = useQuery(fileLinkQuery(live.api, fileId));
  return link.data ? new URL(link.data.url, live.baseUrl).toString() : undefined;
}

function ImageAttachment({ file }: { file: Attachment }) {
  const url = useFileUrl(file.id);
  const [open, setOpen] = useState(false);
  const close = useCallback(() => setOpen(false), []);
  useEscape(close, open);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} aria-label={`Open ${file.name} full size`} className="block overflow-hidden rounded-md bg-slate-100 ring-1 ring-slate-200">
        {/* One fixed box, before and after the picture loads: a row that changed height when its image arrived
            moved the message list under the reader (and unpinned it from the newest message). */}
        {url ? <img src={url} alt={file.name} loading="lazy" className="block h-40 w-60 max-w-full object-contain" /> : <span className="block h-40 w-60 max-w-full animate-pulse" />}
      </button>
      {open && url && (
        <div role="dialog" aria-modal="true" aria-label={file.name} onClick={close} className="fixed inset-0 z-50 flex flex-col items-center justify-center gap-2 bg-black/80 p-4">
          <img src={url} alt={file.name} className="max-h-[85vh] max-w-full object-contain" />
          <div className="flex gap-4 text-sm text-white">
            <a href={url} download={file.name} onClick={(e) => e.stopPropagation()} className="underline">
              Download {formatSize(file.size)}
            </a>
            <button type="button" onClick={close} className="underline">
              Close
            </button>
          </div>
        </div>
      )}
    </>
  );
}

function FileAttachment({ file, own }: { file: Attachment; own: boolean }) {
  const url = useFileUrl(file.id);
  return (
    <a
      href={url}
      download={file.name}
      aria-disabled={url === undefined}
      className={`inline-flex items-center gap-1 rounded-md px-2 py-1 text-sm ring-1 ${own ? 'bg-white/10 text-white ring-white/30' : 'bg-surface text-slate-700 ring-slate-200'}`}
    >
      <span aria-hidden>📎</span>
      <span className="max-w-[14rem] truncate">{file.name}</span>
      <span className="text-xs opacity-70">{formatSize(file.size)}</span>
    </a>
  );
}
