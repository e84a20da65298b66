import type { RoomSummary } from '@chat/protocol';
import { badgeIcon, tabTitle, totalUnread } from '../src/chat/tab-badge';

describe('tab title and favicon badge', () => {
  test('count every room’s unread; nothing unread is the plain title and icon', () => {
    const rooms = [{ unread: 2 }, { unread: 0 }, { unread: 5 }] as RoomSummary[];
    expect(totalUnread(rooms)).toBe(7);
    expect(totalUnread(undefined)).toBe(0);
    expect(tabTitle(0)).toBe('Chat');
    expect(tabTitle(7)).toBe('(7) Chat');
    expect(tabTitle(150)).toBe('(99+) Chat');
    expect(badgeIcon(0)).toBeUndefined();
  });

  test('the badge is an SVG data URL with the count, 9+ beyond nine', () => {
    const svg = (n: number) => decodeURIComponent(badgeIcon(n)!.replace('data:image/svg+xml,', ''));
    expect(badgeIcon(3)).toMatch(/^data:image\/svg\+xml,/);
    expect(svg(3)).toContain('>3</text>');
    expect(svg(12)).toContain('>9+</text>');
  });
});
