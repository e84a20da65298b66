import type { AuditEntry, Member, Role } from '@chat/protocol';

const RANK: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

/** Kick, ban and time out need the actor to strictly outrank the target (the server checks it again). */
export function outranks(actor: Role | undefined, target: Role): boolean {
  return actor !== undefined && RANK[actor] > RANK[target];
}

/** Timeout lengths offered by the member list; the server takes 1 s to 28 days. */
export const TIMEOUT_CHOICES: readonly { label: string; seconds: number }[] = [
  { label: '1 minute', seconds: 60 },
  { label: '10 minutes', seconds: 600 },
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '1 week', seconds: 604_800 },
];

/** Whether a member's timeout is still running at `now`. */
export function isTimedOut(member: Pick<Member, 'timedOutUntil'> | undefined, now: number): boolean {
  return member?.timedOutUntil !== undefined && Date.parse(member.timedOutUntil) > now;
}

const ACTION_WORDS: Record<string, string> = {
  'member.invite': 'invited',
  'member.role': 'changed the role of',
  'member.kick': 'removed',
  'member.ban': 'banned',
  'member.unban': 'unbanned',
  'member.timeout': 'timed out',
  'join_request.approve': 'let in',
  'join_request.reject': 'declined the request of',
};

/** One audit entry in words: "Olivia banned Gustav (spam)". */
export function auditSentence(entry: AuditEntry): string {
  const details = entry.details ?? {};
  const actor = entry.actorName ?? 'a deleted user';
  if (entry.action === 'room.update') {
    const changes: string[] = [];
    if (typeof details.toName === 'string') changes.push(`renamed the room to “${details.toName}”`);
    if (details.toTopic === null) changes.push('cleared the topic');
    else if (typeof details.toTopic === 'string') changes.push(`set the topic to “${details.toTopic}”`);
    return `${actor} ${changes.join(' and ') || 'changed the room'}`;
  }
  const verb = ACTION_WORDS[entry.action] ?? entry.action;
  const target = entry.targetUserId ? ` ${entry.targetName ?? 'a deleted user'}` : '';
  const extra: string[] = [];
  if (typeof details.to === 'string') extra.push(`to ${details.to}`);
  if (typeof details.seconds === 'number') extra.push(`for ${durationWords(details.seconds)}`);
  if (typeof details.reason === 'string' && details.reason) extra.push(`(${details.reason})`);
  return [`${actor} ${verb}${target}`, ...extra].join(' ');
}

function durationWords(seconds: number): string {
  const choice = TIMEOUT_CHOICES.find((c) => c.seconds === seconds);
  if (choice) return choice.label;
  return seconds < 120 ? `${seconds} seconds` : seconds < 7200 ? `${Math.round(seconds / 60)} minutes` : `${Math.round(seconds / 3600)} hours`;
}
