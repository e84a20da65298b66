import { Fragment, type ReactNode } from 'react';
import { formatBlocks, type Inline } from '../chat/format';

/**
 * Message content, lightly formatted (chat/format.ts) and rendered as React elements: React escapes every
 * text, so `<b>` stays the four characters it was. Only http(s) addresses become links, opened in a new tab
 * without access to this page. Blocks are spans shown as blocks, so the text can sit inside a <p>.
 */
export function MessageText({ text, linkClassName, me }: { text: string; linkClassName: string; me?: string | undefined }) {
  return (
    <>
      {formatBlocks(text).map((block, i) => {
        if (block.kind === 'code') {
          return (
            <code key={i} className="my-1 block overflow-x-auto whitespace-pre rounded bg-slate-900/90 px-2 py-1 font-mono text-[13px] text-slate-100">
              {block.text}
            </code>
          );
        }
        const lines = block.lines.map((line, j) => (
          <Fragment key={j}>
            {j > 0 && '\n'}
            {line.map((part, k) => renderInline(part, k, linkClassName, me))}
          </Fragment>
        ));
        if (block.kind === 'quote') {
          return (
            <span key={i} className="my-0.5 block border-l-2 border-current/40 pl-2 opacity-80">
              {lines}
            </span>
          );
        }
        // A paragraph only follows a quote or a code block, which are blocks: it starts on a line of its own.
        return <Fragment key={i}>{lines}</Fragment>;
      })}
    </>
  );
}

function renderInline(part: Inline, key: number, linkClassName: string, me: string | undefined): ReactNode {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'code':
      return (
        <code key={key} className="rounded bg-slate-900/10 px-1 font-mono text-[0.9em]">
          {part.text}
        </code>
      );
    case 'bold':
      return <strong key={key}>{part.children.map((c, i) => renderInline(c, i, linkClassName, me))}</strong>;
    case 'italic':
      return <em key={key}>{part.children.map((c, i) => renderInline(c, i, linkClassName, me))}</em>;
    case 'link':
      return (
        <a key={key} href={part.href} target="_blank" rel="noopener noreferrer nofollow" className={`underline underline-offset-2 ${linkClassName}`}>
          {part.text}
        </a>
      );
    case 'mention':
      return (
        <span key={key} data-mention={part.username} className={`rounded px-0.5 font-medium ${part.username === me ? 'bg-amber-200 text-slate-900' : 'bg-indigo-100/60 text-indigo-900'}`}>
          {part.text}
        </span>
      );
  }
}
