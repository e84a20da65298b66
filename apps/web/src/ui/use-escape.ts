import { useEffect } from 'react';

/**
 * Escape closes what is open: each panel, menu or mode registers while it is open, wherever the focus is
 * (a key handler on the panel itself only works while the focus is inside it).
 */
export function useEscape(onEscape: () => void, active = true): void {
  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) onEscape();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onEscape, active]);
}
