/**
 * Light or dark: the system setting (`prefers-color-scheme`) unless the user picked one, kept in
 * localStorage (for every account on this browser: the screen is shared, not the account). Applied as the
 * `dark` class on <html>, before the first render (main.tsx) and whenever either changes.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'chat.theme';
const listeners = new Set<() => void>();

export function themeChoice(): ThemeChoice {
  const stored = safeGet();
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

export function setThemeChoice(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Storage disabled: the choice holds for this page.
  }
  applyTheme(choice);
  for (const l of listeners) l();
}

export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const systemDark = () => window.matchMedia('(prefers-color-scheme: dark)');

export function applyTheme(choice = themeChoice()): void {
  const dark = choice === 'dark' || (choice === 'system' && systemDark().matches);
  document.documentElement.classList.toggle('dark', dark);
}

/** Follows the system setting while the choice is "system". */
export function watchSystemTheme(): void {
  systemDark().addEventListener('change', () => applyTheme());
}

function safeGet(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
