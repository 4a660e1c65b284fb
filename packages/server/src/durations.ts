/** Durations in settings: `500ms`, `30s`, `15m`, `1h`; a bare number means seconds. */
export function parseDuration(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) throw new Error(`${name} must be a duration such as 900, 30s, 15m or 1h; got ${JSON.stringify(value)}`);
  const amount = Number(match[1]);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(amount * unitMs);
}
