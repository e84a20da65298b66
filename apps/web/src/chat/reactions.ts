import type { ReactionSummary } from '@chat/protocol';

/** The reactions of a message after `userId` added or removed `emoji` (the optimistic view). */
export function toggledReactions(reactions: readonly ReactionSummary[] | undefined, emoji: string, userId: string, add: boolean): ReactionSummary[] {
  const list = reactions ?? [];
  const found = list.find((r) => r.emoji === emoji);
  if (add) {
    if (found?.userIds.includes(userId)) return [...list];
    if (found) return list.map((r) => (r === found ? { ...r, count: r.count + 1, userIds: [...r.userIds, userId] } : r));
    return [...list, { emoji, count: 1, userIds: [userId] }];
  }
  if (!found?.userIds.includes(userId)) return [...list];
  if (found.count <= 1) return list.filter((r) => r !== found);
  return list.map((r) => (r === found ? { ...r, count: r.count - 1, userIds: r.userIds.filter((u) => u !== userId) } : r));
}

/** The few reactions offered in the picker (any emoji the server accepts is shown when others use it). */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const;
