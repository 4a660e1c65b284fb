/**
 * The terminal WebSocket protocol (contract "Terminal"), in one place. Routes and framings of
 * the official CLI's protocols are in ./routes.ts and ./framing.ts; this is ours, and what
 * they all share:
 *
 *   URL     /pty/<sandbox id or name>/ws?token=<terminal token>[&cols=N&rows=N]
 *           (`t` is accepted for `token`; `Authorization: Bearer <token>` works instead)
 *   client → server  binary or text frames: bytes typed into the terminal;
 *                    a text frame holding just {"type":"resize","cols":N,"rows":N} resizes.
 *   server → client  binary frames: the terminal's output, unchanged.
 *   close            1000 "exit <code>" when the shell ends (its exit status; 128+N for signal N);
 *                    4401 no or bad credentials, 4404 no such sandbox among the caller's,
 *                    4400 the sandbox cannot take a terminal now (not running, unsupported),
 *                    4502 the provider failed, 1011 anything else, 1001 server shutting down.
 *                    The reason is a human-readable message (≤123 bytes).
 */

export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INTERNAL: 1011,
  INVALID_REQUEST: 4400,
  AUTHENTICATION_REQUIRED: 4401,
  SANDBOX_NOT_FOUND: 4404,
  /** Streaming exec: the client read none of the waiting output for too long; its command was killed. */
  CLIENT_TOO_SLOW: 4408,
  RATE_LIMITED: 4429,
  PROVIDER_FAILURE: 4502,
} as const;

export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
export const MAX_CELLS = 10_000;

/** The sandbox id or name captured by `route`'s first group (URL-decoded, 1–2048 chars), else undefined. */
export function sandboxOfRoute(route: RegExp, pathname: string): string | undefined {
  const match = route.exec(pathname);
  if (!match) return undefined;
  try {
    const idOrName = decodeURIComponent(match[1]!);
    return idOrName.length > 0 && idOrName.length <= 2048 ? idOrName : undefined;
  } catch {
    return undefined;
  }
}

export function parseCells(value: string | null | undefined, fallback: number): number {
  if (value === null || value === undefined || !/^\d{1,5}$/.test(value)) return fallback;
  const n = Number(value);
  return n >= 1 && n <= MAX_CELLS ? n : fallback;
}

export interface Resize {
  cols: number;
  rows: number;
}

/**
 * A resize request, or undefined when the text is terminal input. Only an exact
 * {"type":"resize",…} object counts, so ordinary typed text is never swallowed.
 */
export function parseResize(text: string): Resize | undefined {
  if (!text.startsWith('{') || text.length > 200) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as { type?: unknown; cols?: unknown; rows?: unknown };
  if (v === null || typeof v !== 'object' || v.type !== 'resize') return undefined;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_CELLS;
  return ok(v.cols) && ok(v.rows) ? { cols: v.cols, rows: v.rows } : undefined;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= 123) return text;
  let cut = buf.subarray(0, 120).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** "exit 7" → 7; what a client reads out of the close reason. */
export function exitCodeOfReason(reason: string): number | undefined {
  const match = /^exit (\d{1,3})$/.exec(reason);
  return match ? Number(match[1]) : undefined;
}
