/**
 * This user's notification choices on this browser (localStorage): desktop notifications on or off, a
 * sound (off by default), and the rooms they muted. A small store React subscribes to.
 */
export interface AlertChoices {
  desktop: boolean;
  sound: boolean;
  muted: readonly string[];
}

const DEFAULTS: AlertChoices = { desktop: false, sound: false, muted: [] };

export class AlertSettings {
  private readonly key: string;
  private value: AlertChoices;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly storage: Storage,
    userId: string,
  ) {
    this.key = `chat.alerts.${userId}`;
    try {
      const parsed = JSON.parse(storage.getItem(this.key) ?? 'null') as Partial<AlertChoices> | null;
      this.value = {
        desktop: parsed?.desktop === true,
        sound: parsed?.sound === true,
        muted: Array.isArray(parsed?.muted) ? parsed.muted.filter((x): x is string => typeof x === 'string') : [],
      };
    } catch {
      this.value = DEFAULTS;
    }
  }

  current = (): AlertChoices => this.value;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  isMuted(roomId: string): boolean {
    return this.value.muted.includes(roomId);
  }

  setMuted(roomId: string, muted: boolean): void {
    const rest = this.value.muted.filter((id) => id !== roomId);
    this.set({ muted: muted ? [...rest, roomId] : rest });
  }

  set(change: Partial<AlertChoices>): void {
    this.value = { ...this.value, ...change };
    try {
      this.storage.setItem(this.key, JSON.stringify(this.value));
    } catch {
      // Storage full or disabled: the choice holds for this page's life.
    }
    for (const l of this.listeners) l();
  }
}

/** Whether a message should alert: someone else's, new, in an unmuted room, and a direct message or a mention. */
export function shouldAlert(opts: { own: boolean; deleted: boolean; muted: boolean; direct: boolean; mentionsMe: boolean }): boolean {
  return !opts.own && !opts.deleted && !opts.muted && (opts.direct || opts.mentionsMe);
}
