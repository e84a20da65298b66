import type { Member } from '@chat/protocol';

/** The `@prefix` being typed just before the caret, or undefined when the caret is not in one. */
export function mentionAt(text: string, caret: number): { start: number; prefix: string } | undefined {
  const m = /(^|\s)@([a-z0-9_]{0,32})$/iu.exec(text.slice(0, caret));
  if (!m) return undefined;
  return { start: m.index + m[1]!.length, prefix: m[2]!.toLowerCase() };
}

/** Members whose username or display name starts with the prefix, the user themselves left out; at most 6. */
export function mentionCandidates(members: readonly Member[], prefix: string, selfId: string): Member[] {
  return members
    .filter((m) => m.userId !== selfId && (m.username.startsWith(prefix) || m.displayName.toLowerCase().startsWith(prefix)))
    .sort((a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username))
    .slice(0, 6);
}

/** The text with the `@prefix` at `start` replaced by `@username ` and where the caret goes after it. */
export function insertMention(text: string, caret: number, start: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}
