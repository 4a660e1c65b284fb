/** "3 minutes", "an hour", "2 days": the distance between two instants, for humans. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const units: [number, string, string][] = [
    [60 * 60 * 24 * 365, 'a year', 'years'],
    [60 * 60 * 24 * 30, 'a month', 'months'],
    [60 * 60 * 24, 'a day', 'days'],
    [60 * 60, 'an hour', 'hours'],
    [60, 'a minute', 'minutes'],
  ];
  for (const [size, one, many] of units) {
    const n = Math.floor(s / size);
    if (n >= 1) return n === 1 ? one : `${n} ${many}`;
  }
  return s < 10 ? 'a few seconds' : `${s} seconds`;
}

/** "5 minutes ago" for an ISO timestamp; the raw text when it does not parse. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? iso : `${humanDuration(now - at)} ago`;
}
