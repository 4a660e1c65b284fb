/**
 * SSH-style terminal sessions (the hosted service's protocol for daytona and deno sandboxes):
 * `POST /ssh/connect` (./ssh-routes.ts) records which sandbox and size a terminal is for and
 * answers a session id; the WebSocket `/ssh/<session id>/ws` then takes it (./routes.ts).
 *
 * A session id is a capability in a URL, so it is weak on purpose: 256 random bits, bound to
 * the actor that asked (anyone else gets "not found" and cannot spend it), single use, and
 * dropped if unused for SSH_SESSION_TTL_MS. Sessions live in memory only: they are meant to be
 * used within seconds, so a server restart simply drops the pending ones (the client asks again).
 */
import { randomBytes } from 'node:crypto';
import type { Resize } from './protocol';

export const SSH_SESSION_TTL_MS = 60_000;
/** An actor asking for more without using them loses its oldest ones: memory stays bounded. */
const MAX_PENDING_PER_ACTOR = 16;

export interface SshSession {
  actorId: string;
  /** The sandbox's id, owner-checked when the session was made (and again when it is used). */
  sandboxId: string;
  size: Resize;
  expiresAt: number;
}

export class SshSessionStore {
  /** In insertion order, so the first ones of an actor are its oldest. */
  private readonly pending = new Map<string, SshSession>();

  constructor(
    private readonly ttlMs = SSH_SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  create(actorId: string, sandboxId: string, size: Resize): { sessionId: string; expiresAt: string } {
    this.sweep();
    const own = [...this.pending].filter(([, s]) => s.actorId === actorId);
    for (const [id] of own.slice(0, Math.max(0, own.length - MAX_PENDING_PER_ACTOR + 1))) this.pending.delete(id);
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.pending.set(sessionId, { actorId, sandboxId, size, expiresAt });
    return { sessionId, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Spends the actor's unexpired session; undefined for anyone else's, an unknown, used or expired one. */
  take(sessionId: string, actorId: string): SshSession | undefined {
    const session = this.find(sessionId, actorId);
    if (session) this.pending.delete(sessionId);
    return session;
  }

  /** Drops the actor's unused session; false when there was none of theirs to drop. */
  drop(sessionId: string, actorId: string): boolean {
    return this.find(sessionId, actorId) !== undefined && this.pending.delete(sessionId);
  }

  private find(sessionId: string, actorId: string): SshSession | undefined {
    const session = this.pending.get(sessionId);
    if (!session || session.actorId !== actorId) return undefined;
    if (session.expiresAt <= this.now()) {
      this.pending.delete(sessionId);
      return undefined;
    }
    return session;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.pending) if (s.expiresAt <= now) this.pending.delete(id);
  }
}
