import { AlertSettings, shouldAlert } from '../src/chat/alert-settings';

class MemoryStorage {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

describe('alert settings', () => {
  test('off by default; choices and mutes persist per user', () => {
    const storage = new MemoryStorage() as unknown as Storage;
    const a = new AlertSettings(storage, 'u1');
    expect(a.current()).toEqual({ desktop: false, sound: false, muted: [] });
    let changes = 0;
    a.subscribe(() => changes++);
    a.set({ desktop: true });
    a.setMuted('r1', true);
    a.setMuted('r2', true);
    a.setMuted('r1', false);
    expect(changes).toBe(4);
    expect(new AlertSettings(storage, 'u1').current()).toEqual({ desktop: true, sound: false, muted: ['r2'] });
    expect(new AlertSettings(storage, 'u2').current()).toEqual({ desktop: false, sound: false, muted: [] });
    expect(new AlertSettings(storage, 'u1').isMuted('r2')).toBe(true);
  });

  test('direct messages and mentions alert, unless own, deleted or muted', () => {
    const base = { own: false, deleted: false, muted: false, direct: false, mentionsMe: false };
    expect(shouldAlert({ ...base, direct: true })).toBe(true);
    expect(shouldAlert({ ...base, mentionsMe: true })).toBe(true);
    expect(shouldAlert(base)).toBe(false);
    expect(shouldAlert({ ...base, direct: true, muted: true })).toBe(false);
    expect(shouldAlert({ ...base, mentionsMe: true, own: true })).toBe(false);
  });
});
