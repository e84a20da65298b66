import { useCallback, useLayoutEffect, useMemo, useRef, useState, type RefObject, type UIEvent } from 'react';
import { prefixOffsets, rowAt, visibleRange } from '../chat/list-window';

export interface WindowedListOptions {
  /** The scrolling element. */
  scrollRef: RefObject<HTMLElement | null>;
  /** The element the rows are rendered in (its top is where row 0 starts inside the scroller). */
  listRef: RefObject<HTMLElement | null>;
  keys: readonly string[];
  /** Height of a row that has not been measured yet. */
  estimate: number;
  /** Rendered beyond the viewport on each side, in px. */
  overscan?: number;
  /** Called when the viewport comes within `nearTopPx` of the first row (load older messages). */
  onNearTop?: () => void;
  nearTopPx?: number;
}

export interface WindowedList {
  start: number;
  end: number;
  /** Spacer heights standing in for the rows before `start` and after `end`. */
  before: number;
  after: number;
  /** Ref callback for the row with `key`: measures it (and re-measures when it resizes). */
  measure: (key: string) => (el: HTMLElement | null) => void;
  onScroll: (e: UIEvent<HTMLElement>) => void;
  /** True while the view follows the newest row (the user is at the bottom). */
  atBottom: boolean;
  scrollToBottom: () => void;
}

const BOTTOM_SLACK_PX = 48;
// jsdom and the first render have no layout: assume a tall viewport so the last rows render.
const FALLBACK_VIEWPORT_PX = 900;

/**
 * A chat log's windowing: renders the rows around the viewport, measures them as they appear, and keeps the
 * view anchored — at the bottom while the user is there (new messages scroll in), or on the first visible
 * row otherwise, so an older page prepended above, or a row above growing, never moves what is being read.
 */
export function useWindowedList(opts: WindowedListOptions): WindowedList {
  const { scrollRef, listRef, keys, estimate, overscan = 800, onNearTop, nearTopPx = 400 } = opts;
  const heights = useRef(new Map<string, number>()).current;
  const [version, setVersion] = useState(0);
  const [view, setView] = useState({ top: 0, height: 0 });
  const stick = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const anchor = useRef<{ key: string; delta: number } | undefined>(undefined);
  const refs = useRef(new Map<string, (el: HTMLElement | null) => void>()).current;
  const elementKeys = useRef(new WeakMap<Element, string>()).current;
  const pendingBump = useRef(false);

  const offsets = useMemo(() => prefixOffsets(keys, heights, estimate), [keys, heights, estimate, version]);
  const listTop = () => listRef.current?.offsetTop ?? 0;

  const observer = useMemo(() => {
    if (typeof ResizeObserver === 'undefined') return undefined;
    return new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const key = elementKeys.get(entry.target);
        if (key === undefined) continue;
        const h = entry.borderBoxSize?.[0]?.blockSize ?? (entry.target as HTMLElement).offsetHeight;
        if (h > 0 && heights.get(key) !== h) {
          heights.set(key, h);
          changed = true;
        }
      }
      if (changed && !pendingBump.current) {
        pendingBump.current = true;
        // One re-render per batch of measurements.
        queueMicrotask(() => {
          pendingBump.current = false;
          setVersion((v) => v + 1);
        });
      }
    });
  }, [elementKeys, heights]);

  const measure = useCallback(
    (key: string) => {
      let fn = refs.get(key);
      if (!fn) {
        let current: HTMLElement | null = null;
        fn = (el: HTMLElement | null) => {
          if (current && observer) observer.unobserve(current);
          current = el;
          if (el) {
            elementKeys.set(el, key);
            observer?.observe(el);
          }
        };
        refs.set(key, fn);
      }
      return fn;
    },
    [elementKeys, observer, refs],
  );

  // Forget ref callbacks of rows that left the list (e.g. a room with a different history).
  useLayoutEffect(() => {
    if (refs.size < keys.length * 2 + 200) return;
    const live = new Set(keys);
    for (const k of refs.keys()) if (!live.has(k)) refs.delete(k);
  }, [keys, refs]);

  const rememberAnchor = useCallback(
    (scrollTop: number) => {
      if (keys.length === 0) {
        anchor.current = undefined;
        return;
      }
      const y = scrollTop - listTop();
      const i = rowAt(offsets, Math.max(0, y));
      anchor.current = { key: keys[i]!, delta: offsets[i]! - y };
    },
    [keys, offsets],
  );

  const onScroll = useCallback(
    (e: UIEvent<HTMLElement>) => {
      const el = e.currentTarget;
      const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
      stick.current = bottom;
      setAtBottom(bottom);
      rememberAnchor(el.scrollTop);
      setView({ top: el.scrollTop - listTop(), height: el.clientHeight });
      if (onNearTop && el.scrollTop - listTop() < nearTopPx) onNearTop();
    },
    [onNearTop, nearTopPx, rememberAnchor],
  );

  // After every change of rows or heights: keep the anchor where it was on screen.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    if (stick.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = keys.indexOf(anchor.current.key);
      if (i >= 0) {
        const desired = offsets[i]! + listTop() - anchor.current.delta;
        if (Math.abs(el.scrollTop - desired) > 1) el.scrollTop = desired;
      }
    }
    const next = { top: el.scrollTop - listTop(), height: el.clientHeight };
    setView((v) => (v.top === next.top && v.height === next.height ? v : next));
  }, [keys, offsets]);

  useLayoutEffect(() => () => observer?.disconnect(), [observer]);

  const viewport = view.height > 0 ? view.height : FALLBACK_VIEWPORT_PX;
  // Until the first scroll event, a list that sticks to the bottom shows its end.
  const top = stick.current && view.height === 0 ? Math.max(0, offsets[keys.length]! - viewport) : view.top;
  const { start, end } = visibleRange(offsets, top, viewport, overscan);
  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    stick.current = true;
    setAtBottom(true);
    el.scrollTop = el.scrollHeight;
  }, [scrollRef]);

  return {
    start,
    end,
    before: offsets[start]!,
    after: offsets[keys.length]! - offsets[end]!,
    measure,
    onScroll,
    atBottom,
    scrollToBottom,
  };
}
