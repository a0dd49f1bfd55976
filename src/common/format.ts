/**
 * The one definition of what the areas share in how they show things: when a long operation
 * (query, transfer, job) has ended, and a size in bytes.
 */

/** The states in which a query, transfer or job has ended (jobs say `failed` for `error`). */
export const FINAL_STATUSES: readonly string[] = ['completed', 'error', 'failed', 'cancelled'];

export function isFinal(status: string): boolean {
  return FINAL_STATUSES.includes(status);
}

/** 1536 -> "1.5 kB" (decimal units, as Rucio shows sizes); unknown -> "?". */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) {
    return '?';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
