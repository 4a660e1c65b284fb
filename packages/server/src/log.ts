/**
 * Structured logs: one JSON object per line on stderr (stdout is reserved for the
 * "listening on" line that scripts wait for). Inside a request every line carries the
 * request id, taken from an AsyncLocalStorage so deep code (orchestrator, reaper) does not
 * have to thread it through.
 *
 * Never log tokens, sealed values or request bodies: callers pass only the fields they mean to.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

interface RequestContext {
  reqId: string;
  actor?: string;
}

const requestContext = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return requestContext.run(ctx, fn);
}

/** Attaches the authenticated actor to the current request's log lines. */
export function setRequestActor(did: string): void {
  const ctx = requestContext.getStore();
  if (ctx) ctx.actor = did;
}

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.reqId;
}

export class Logger {
  constructor(
    readonly enabled: boolean,
    private readonly base: LogFields = {},
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    /** Whether debug lines are written too (POCKETENV_LOG=debug, resolved in config.ts). */
    readonly debugEnabled = false,
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.enabled, { ...this.base, ...fields }, this.write, this.debugEnabled);
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.debugEnabled) this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }

  private emit(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled) return;
    const ctx = requestContext.getStore();
    const line: LogFields = { time: new Date().toISOString(), level, msg, ...this.base };
    if (ctx) {
      line.reqId = ctx.reqId;
      if (ctx.actor) line.actor = ctx.actor;
    }
    Object.assign(line, fields);
    this.write(JSON.stringify(line, errorReplacer) + '\n');
  }
}

/** Errors do not serialise with JSON.stringify; keep name, message and stack. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  return value;
}
