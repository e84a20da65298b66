import { useState, useSyncExternalStore } from 'react';
import { useLive } from './live-session-context';

/**
 * Desktop notifications for direct messages and mentions while the tab is hidden, and an optional sound.
 * Permission is asked only here, when the user clicks, never on load.
 */
export function AlertChoices() {
  const live = useLive();
  const choices = useSyncExternalStore(live.alerts.subscribe, live.alerts.current, live.alerts.current);
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState(supported ? Notification.permission : 'denied');

  async function enable() {
    const answer = permission === 'granted' ? 'granted' : await Notification.requestPermission();
    setPermission(answer);
    live.alerts.set({ desktop: answer === 'granted' });
  }

  return (
    <section aria-label="Notifications" className="space-y-2 text-sm">
      <h3 className="font-medium">Notifications</h3>
      {!supported ? (
        <p className="text-slate-500">This browser cannot show notifications.</p>
      ) : choices.desktop && permission === 'granted' ? (
        <p className="flex items-center gap-2">
          <span className="flex-1">Desktop notifications are on for direct messages and mentions.</span>
          <button onClick={() => live.alerts.set({ desktop: false })} className="text-indigo-600 hover:underline">
            Turn off
          </button>
        </p>
      ) : permission === 'denied' ? (
        <p className="text-slate-500">Notifications are blocked for this site in the browser&apos;s settings.</p>
      ) : (
        <button onClick={() => void enable()} className="rounded-md bg-indigo-600 px-3 py-1 font-medium text-white hover:bg-indigo-500">
          Turn on desktop notifications
        </button>
      )}
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={choices.sound} onChange={(e) => live.alerts.set({ sound: e.target.checked })} />
        Play a sound with them
      </label>
    </section>
  );
}
