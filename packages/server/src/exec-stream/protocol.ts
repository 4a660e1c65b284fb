/**
 * Streaming exec over WebSocket, in one place:
 *
 *   URL     /exec/<sandbox id or name>/ws      auth: `Authorization: Bearer <token>`, or
 *           ?token=<terminal token> (from getTerminalToken; one use) for browsers
 *   client → server  first, one text frame {"type":"start","command":"…","cwd"?,"env"?:{…},"timeoutMs"?}
 *                    then binary frames = bytes for the command's stdin,
 *                    text {"type":"eof"} closes its stdin, text {"type":"kill"} kills its process tree.
 *   server → client  binary frames: 1 byte stream id (1 stdout, 2 stderr) + the bytes, as produced;
 *                    last, text {"type":"exit","exitCode":N,"timedOut":bool}, then close 1000 "exit N".
 *   close codes      as the terminal's (../terminal/protocol.ts): 4400 bad request or sandbox not
 *                    running, 4401 credentials, 4404 no such sandbox, 4429 too many commands
 *                    running for the caller (POCKETENV_MAX_CONCURRENT_EXEC), 4502 provider failure, 1011,
 *                    4408 the client read none of the waiting output for POCKETENV_EXEC_STALL_TIMEOUT
 *                    (30 s; the command was killed; a client that reads nothing at all is dropped 5 s later).
 *   Output goes at the client's pace: while more than 1 MiB waits for the client, the command's
 *   output is not read (the command blocks writing). Stdin goes at the command's pace: while the
 *   command has not taken what was sent, the client is not read (its later frames wait, and a
 *   client that leaves meanwhile is noticed once the command reads on or its timeout passes).
 *   A client that disconnects before the exit kills the command.
 */
import { DEFAULT_EXEC_TIMEOUT_MS } from '../sandboxes/orchestrator';
import { sandboxOfRoute } from '../terminal/protocol';

export const STDOUT = 1;
export const STDERR = 2;

const ROUTE = /^\/exec\/([^/]+)\/ws\/?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_COMMAND = 1024 * 1024;

export function sandboxOfExecPath(pathname: string): string | undefined {
  return sandboxOfRoute(ROUTE, pathname);
}

export interface StartFrame {
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs: number;
}

/** The start frame, or a message saying what is wrong with it. */
export function parseStart(text: string): StartFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the first frame must be JSON {"type":"start","command":…}';
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || v.type !== 'start') return 'the first frame must be {"type":"start",…}';
  if (typeof v.command !== 'string' || v.command.trim() === '' || v.command.length > MAX_COMMAND || v.command.includes('\0')) {
    return 'command must be a non-empty string without NUL';
  }
  if (v.cwd !== undefined && (typeof v.cwd !== 'string' || !v.cwd.startsWith('/'))) return 'cwd must be an absolute path inside the sandbox';
  let env: Record<string, string> | undefined;
  if (v.env !== undefined) {
    if (typeof v.env !== 'object' || v.env === null || Array.isArray(v.env)) return 'env must be an object of strings';
    env = {};
    for (const [name, val] of Object.entries(v.env as Record<string, unknown>)) {
      if (!ENV_NAME.test(name)) return `env: ${JSON.stringify(name)} is not a valid variable name`;
      if (typeof val !== 'string' || val.includes('\0')) return `env.${name} must be a string without NUL`;
      env[name] = val;
    }
  }
  let timeoutMs = DEFAULT_EXEC_TIMEOUT_MS;
  if (v.timeoutMs !== undefined) {
    if (typeof v.timeoutMs !== 'number' || !Number.isInteger(v.timeoutMs) || v.timeoutMs < 1) return 'timeoutMs must be a positive integer';
    timeoutMs = v.timeoutMs;
  }
  return { command: v.command, cwd: v.cwd as string | undefined, env, timeoutMs };
}

/** A control frame from the client after start. */
export function parseControl(text: string): 'eof' | 'kill' | undefined {
  if (text.length > 100) return undefined;
  try {
    const v = JSON.parse(text) as { type?: unknown };
    return v?.type === 'eof' || v?.type === 'kill' ? v.type : undefined;
  } catch {
    return undefined;
  }
}
