/**
 * Who may use a sandbox's VS Code. code-server runs with `--auth none` inside the sandbox, and
 * VS Code is a full shell on it, so the preview URL of its port must not be enough on its own
 * (it is listed by getExposedPorts and lives as long as the port is exposed). The gate:
 *
 *   1. exposeVscode (owner only) returns the preview URL plus `?pe_ticket=<ticket>`: a ticket
 *      for THAT port's URL, valid for TICKET_TTL_MS.
 *   2. The first request carrying a valid ticket gets a session cookie (HttpOnly, SameSite=Lax,
 *      host-only: VS Code's own preview host, never the API's nor another preview's; valid for
 *      SESSION_TTL_MS) and a redirect to the clean URL.
 *   3. Every later request to that preview (pages, assets, WebSockets) needs the cookie; without
 *      it, or with a forged or expired one, the answer is 401 and nothing reaches code-server.
 *
 * Tickets and cookies are HMACs over (purpose, port token, expiry) with a key derived from the
 * server's private key, so they survive restarts and die with the port (unexposing deletes the
 * port token they are bound to). Nothing is stored.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { OUR_COOKIE_PREFIX } from '../cookies';
import type { BoxKeyPair } from '../keys';

export const TICKET_PARAM = 'pe_ticket';
/** Named like every cookie of ours (cookies.ts), so no preview app can set it nor be sent it. */
export const SESSION_COOKIE = `${OUR_COOKIE_PREFIX}ide`;
export const TICKET_TTL_MS = 10 * 60_000;
export const SESSION_TTL_MS = 12 * 60 * 60_000;

type Purpose = 'ticket' | 'session';

export class IdeAccess {
  private readonly key: Buffer;

  constructor(keys: BoxKeyPair) {
    this.key = Buffer.from(hkdfSync('sha256', keys.privateKey, Buffer.alloc(0), 'pocketenv ide access v1', 32));
  }

  /** A credential for the preview whose port token is `portToken`: `<expiry ms>.<mac>`. */
  issue(purpose: Purpose, portToken: string, now = Date.now()): string {
    const expires = now + (purpose === 'ticket' ? TICKET_TTL_MS : SESSION_TTL_MS);
    return `${expires}.${this.mac(purpose, portToken, expires)}`;
  }

  verify(purpose: Purpose, portToken: string, value: string | undefined, now = Date.now()): boolean {
    const match = value ? /^(\d{13,15})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!match) return false;
    const expires = Number(match[1]);
    if (expires <= now) return false;
    const expected = Buffer.from(this.mac(purpose, portToken, expires));
    const given = Buffer.from(match[2]!);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private mac(purpose: Purpose, portToken: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${portToken}\n${expires}`).digest('base64url');
  }
}
