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
  /**
   * Rows that keep their identity when rows are prepended (default: all). A day separator does not: it
   * moves to the top of its day as older messages of that day arrive, so it must not be the anchor.
   */
  anchorable?: (key: string) => boolean;
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
  const { scrollRef, listRef, keys, estimate, overscan = 800, onNearTop, nearTopPx = 400, anchorable } = opts;
  const heights = useRef(new Map<string, number>()).current;
  const [version, setVersion] = useState(0);
  const [view, setView] = useState({ top: 0, height: 0 });
  const stick = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  /**
   * The row being read: its key and where its top was, relative to the scroller's top edge. `estimated`
   * when it had to be computed from the offsets (the row was not rendered): its position is then re-read
   * from the DOM once the row is rendered, instead of being enforced.
   */
  const anchor = useRef<{ key: string; top: number; estimated: boolean } | undefined>(undefined);
  const range = useRef({ start: 0, end: 0 });
  /** The scrollTop we set ourselves last; the scroll event it causes must not move the anchor. */
  const ownScroll = useRef<number | undefined>(undefined);
  /** The scrollTop as of the last scroll event seen or set: a different one means a scroll not yet seen. */
  const seenScrollTop = useRef(0);
  const refs = useRef(new Map<string, (el: HTMLElement | null) => void>()).current;
  const elements = useRef(new Map<string, HTMLElement>()).current;
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
          if (current && elements.get(key) === current) elements.delete(key);
          current = el;
          if (el) {
            elementKeys.set(el, key);
            elements.set(key, el);
            observer?.observe(el);
          }
        };
        refs.set(key, fn);
      }
      return fn;
    },
    [elementKeys, elements, observer, refs],
  );

  // Forget ref callbacks of rows that left the list (e.g. a room with a different history).
  useLayoutEffect(() => {
    if (refs.size < keys.length * 2 + 200) return;
    const live = new Set(keys);
    for (const k of refs.keys()) if (!live.has(k)) refs.delete(k);
  }, [keys, refs]);

  /**
   * Remembers the first rendered row inside the viewport, with its on-screen position read from the DOM (not
   * from the offsets, which hold estimates for rows not measured yet: an anchor computed from them would
   * drift by the estimate's error once the rows are measured).
   */
  const rememberAnchor = useCallback(() => {
    const el = scrollRef.current;
    if (!el || keys.length === 0) {
      anchor.current = undefined;
      return;
    }
    const box = el.getBoundingClientRect();
    const { start, end } = range.current;
    for (let i = start; i < Math.min(end, keys.length); i++) {
      const key = keys[i]!;
      const row = elements.get(key);
      if (!row || (anchorable && !anchorable(key))) continue;
      const rect = row.getBoundingClientRect();
      if (rect.bottom <= box.top) continue;
      if (rect.top >= box.bottom) break;
      anchor.current = { key, top: rect.top - box.top, estimated: false };
      return;
    }
    // Nothing rendered in view yet (the scroll went past the rendered rows): estimate from the offsets.
    const y = el.scrollTop - listTop();
    let i = rowAt(offsets, Math.max(0, y));
    while (anchorable && i < keys.length - 1 && !anchorable(keys[i]!)) i++;
    anchor.current = { key: keys[i]!, top: offsets[i]! - y, estimated: true };
  }, [scrollRef, keys, elements, anchorable, offsets]);

  const onScroll = useCallback(
    (e: UIEvent<HTMLElement>) => {
      const el = e.currentTarget;
      const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
      stick.current = bottom;
      setAtBottom(bottom);
      // Our own adjustment keeps the anchor it was made for; only the user's scrolling picks a new one.
      const own = ownScroll.current !== undefined && Math.abs(el.scrollTop - ownScroll.current) < 1;
      ownScroll.current = undefined;
      seenScrollTop.current = el.scrollTop;
      if (!own) rememberAnchor();
      setView({ top: el.scrollTop - listTop(), height: el.clientHeight });
      if (onNearTop && el.scrollTop - listTop() < nearTopPx) onNearTop();
    },
    [onNearTop, nearTopPx, rememberAnchor],
  );

  // After every change of rows or heights: keep the anchor where it was on screen.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const scrollTo = (top: number) => {
      el.scrollTop = top;
      ownScroll.current = el.scrollTop;
      seenScrollTop.current = el.scrollTop;
    };
    // The user scrolled and its event has not arrived yet: their position wins over the old anchor.
    if (Math.abs(el.scrollTop - seenScrollTop.current) >= 1) {
      seenScrollTop.current = el.scrollTop;
      stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
      rememberAnchor();
    }
    if (stick.current) {
      scrollTo(el.scrollHeight);
    } else if (anchor.current) {
      const row = elements.get(anchor.current.key);
      if (row && anchor.current.estimated) {
        // Rendered at last: from now on its real position is the one to keep.
        anchor.current = { key: anchor.current.key, top: row.getBoundingClientRect().top - el.getBoundingClientRect().top, estimated: false };
      } else if (row) {
        // Rendered: move by exactly how far it moved.
        const moved = row.getBoundingClientRect().top - el.getBoundingClientRect().top - anchor.current.top;
        if (Math.abs(moved) >= 1) scrollTo(el.scrollTop + moved);
      } else {
        // Not rendered (e.g. an older page was just prepended above it): place it by the offsets; once the
        // rows around it are rendered and measured, the branch above corrects the estimate's error.
        const i = keys.indexOf(anchor.current.key);
        if (i >= 0) scrollTo(offsets[i]! + listTop() - anchor.current.top);
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
  range.current = { start, end };
  const scrollToBottom = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    stick.current = true;
    setAtBottom(true);
    el.scrollTop = el.scrollHeight;
    ownScroll.current = el.scrollTop;
    seenScrollTop.current = el.scrollTop;
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
