import { MemoryPresenceStore, type PresenceStore } from '../../src/infra/presence-store';

// The Redis implementation (cluster mode) joins this list when it exists.
const implementations: [string, () => PresenceStore][] = [['memory', () => new MemoryPresenceStore()]];

describe.each(implementations)('PresenceStore contract: %s', (_name, make) => {
  let store: PresenceStore;
  beforeEach(() => {
    store = make();
  });
  afterEach(() => store.close());

  test('online from the first socket, offline after the last one, with lastSeen', async () => {
    expect(await store.add('u1', 's1')).toBe(true);
    expect(await store.add('u1', 's2')).toBe(false);
    expect((await store.get(['u1'])).get('u1')).toEqual({ online: true });
    expect((await store.remove('u1', 's1')).wentOffline).toBe(false);
    const last = await store.remove('u1', 's2');
    expect(last.wentOffline).toBe(true);
    const state = (await store.get(['u1'])).get('u1')!;
    expect(state.online).toBe(false);
    expect(state.lastSeen?.getTime()).toBe(last.lastSeen.getTime());
  });

  test('removing an unknown socket changes nothing', async () => {
    await store.add('u1', 's1');
    expect((await store.remove('u1', 'nope')).wentOffline).toBe(false);
    expect((await store.remove('u2', 'nope')).wentOffline).toBe(false);
    expect((await store.get(['u1'])).get('u1')).toEqual({ online: true });
  });

  test('unknown users are offline without lastSeen', async () => {
    expect((await store.get(['ghost'])).get('ghost')).toEqual({ online: false });
  });
});
