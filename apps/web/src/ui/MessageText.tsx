import { linkParts } from '../chat/link-parts';

/**
 * Message content as text: React escapes it, so `<b>` stays the four characters it was. Only http(s)
 * addresses become links, opened in a new tab without access to this page.
 */
export function MessageText({ text, linkClassName }: { text: string; linkClassName: string }) {
  return (
    <>
      {linkParts(text).map((part, i) =>
        part.kind === 'text' ? (
          part.text
        ) : (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow" className={`underline underline-offset-2 ${linkClassName}`}>
            {part.text}
          </a>
        ),
      )}
    </>
  );
}
