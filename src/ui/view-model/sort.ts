/**
 * Sort orders. `s` cycles bytes -> rate -> flows -> name; choosing the current order again (or `r`)
 * reverses it. Numbers sort largest first and names A to Z unless reversed; ties fall back to the
 * row key so the order never flickers between frames.
 */
export const SORT_KEYS = ['bytes', 'rate', 'flows', 'name'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortOrder {
  key: SortKey;
  reverse: boolean;
}

export const DEFAULT_SORT: SortOrder = { key: 'bytes', reverse: false };

/** The next order in the `s` cycle (not reversed). */
export function nextSort(s: SortOrder): SortOrder {
  const i = SORT_KEYS.indexOf(s.key);
  return { key: SORT_KEYS[(i + 1) % SORT_KEYS.length]!, reverse: false };
}

/** Choosing `key` directly: the same key again reverses it. */
export function chooseSort(s: SortOrder, key: SortKey): SortOrder {
  return s.key === key ? { key, reverse: !s.reverse } : { key, reverse: false };
}

/** '▼' for the natural direction of the key (largest first / A-Z), '▲' when reversed. */
export function sortMarker(s: SortOrder, column: SortKey): string {
  if (s.key !== column) return '';
  return s.reverse ? '▲' : '▼';
}

export interface Sortable {
  key: string;
  name: string;
  bytes: number;
  bytesPerSec: number;
  flows: number;
}

/** A comparator for rows under `order`. */
export function comparator<T extends Sortable>(order: SortOrder): (a: T, b: T) => number {
  const dir = order.reverse ? -1 : 1;
  const tie = (a: T, b: T): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  switch (order.key) {
    case 'name':
      return (a, b) => dir * (a.name.localeCompare(b.name, 'en') || tie(a, b));
    case 'bytes':
      return (a, b) => dir * (b.bytes - a.bytes || tie(a, b));
    case 'rate':
      return (a, b) => dir * (b.bytesPerSec - a.bytesPerSec || b.bytes - a.bytes || tie(a, b));
    case 'flows':
      return (a, b) => dir * (b.flows - a.flows || b.bytes - a.bytes || tie(a, b));
  }
}
