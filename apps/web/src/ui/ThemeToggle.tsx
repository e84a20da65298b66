import { useSyncExternalStore } from 'react';
import { setThemeChoice, subscribeTheme, themeChoice, type ThemeChoice } from './theme';

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'dark', dark: 'light', light: 'system' };
const LABEL: Record<ThemeChoice, string> = { system: 'Auto', dark: 'Dark', light: 'Light' };

/** Cycles system → dark → light. */
export function ThemeToggle() {
  const choice = useSyncExternalStore(subscribeTheme, themeChoice, () => 'system' as const);
  return (
    <button
      onClick={() => setThemeChoice(NEXT[choice])}
      aria-label={`Theme: ${choice === 'system' ? 'as the system' : choice}`}
      title="Switch between the system setting, dark and light"
      className="text-sm text-slate-500 hover:text-slate-800">
      {LABEL[choice]}
    </button>
  );
}
