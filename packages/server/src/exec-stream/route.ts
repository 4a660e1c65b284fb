/**
 * The streaming exec route (protocol in ./protocol.ts): authenticates like the terminal (bearer
 * header or one-use terminal token), finds the caller's running sandbox, runs the command with
 * the provider's execStream and relays its output as it is produced.
 */
import type { IncomingMessage } from 'node:http';
import { PathEscapeError, type ExecProcess } from '@pocketenv/runtime';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppContext } from '../context';
import type { UpgradeHandler } from '../features';
import { SocketFlow } from '../terminal/backpressure';
import { CloseCode, closeReason } from '../terminal/protocol';
import {
  Refusal,
  authenticateSocket,
  keepSandboxAwake,
  refuseSocket,
  runningSandboxOf,
  sandboxUpgrade,
  type SocketCredentials,
} from '../terminal/socket-auth';
import type { TerminalTokenStore } from '../terminal/tokens';
import { STDERR, STDOUT, parseControl, parseStart, sandboxOfExecPath } from './protocol';

const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** After the 4408 close frame, how long a client that reads nothing gets before the connection is dropped. */
const CLOSE_GRACE_MS = 5000;

const CREDENTIALS: SocketCredentials = {
  tokenParams: ['token'],
  badTokenReason: 'AuthenticationRequired: the token is invalid, expired or already used',
  missingReason: 'AuthenticationRequired: send Authorization: Bearer <token> or ?token=<terminal token>',
};

export class ExecStreamRoute {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly running = new Set<{ proc: ExecProcess; ws: WebSocket }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly tokens: TerminalTokenStore,
  ) {}

  readonly handler: UpgradeHandler = sandboxUpgrade(this.wss, sandboxOfExecPath, (ws, req, url, idOrName) => this.open(ws, req, url, idOrName));

  /** Server shutdown: kill what runs, tell clients. */
  async closeAll(): Promise<void> {
    for (const { proc, ws } of this.running) {
      proc.kill();
      if (ws.readyState === ws.OPEN) ws.close(CloseCode.GOING_AWAY, 'server shutting down');
    }
    await Promise.all([...this.running].map(({ proc }) => proc.wait().catch(() => undefined)));
  }

  private async open(ws: WebSocket, req: IncomingMessage, url: URL, idOrName: string): Promise<void> {
    // Stdin may arrive right behind the start frame, while we authenticate: keep it in order.
    const pending: Array<{ data: RawData; isBinary: boolean }> = [];
    let firstFrame: ((f: { data: RawData; isBinary: boolean }) => void) | undefined;
    const buffer = (data: RawData, isBinary: boolean) => (firstFrame ? firstFrame({ data, isBinary }) : pending.push({ data, isBinary }));
    ws.on('message', buffer);
    ws.on('error', () => undefined);
    const log = this.ctx.log.child({ feature: 'exec-stream' });
    let releaseSlot = () => undefined as void;
    try {
      const { actor } = await authenticateSocket(this.ctx, this.tokens, req, url, CREDENTIALS);
      const record = await runningSandboxOf(this.ctx, actor, idOrName);
      // Frames that arrive after the first but before this function resumes must queue, not
      // resolve the promise again (they would be lost: stdin sent right after the start frame).
      const queue = (f: { data: RawData; isBinary: boolean }) => void pending.push(f);
      const first =
        pending.shift() ??
        (await new Promise<{ data: RawData; isBinary: boolean }>((resolve) => {
          firstFrame = (f) => {
            firstFrame = queue;
            resolve(f);
          };
        }));
      firstFrame = queue;
      if (first.isBinary) throw new Refusal(CloseCode.INVALID_REQUEST, 'InvalidRequest: the first frame must be a text {"type":"start",…} frame');
      const start = parseStart(toBuffer(first.data).toString('utf8'));
      if (typeof start === 'string') throw new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: ${start}`);

      const provider = this.ctx.orchestrator.providerOf(record);
      const env = { ...(await this.ctx.orchestrator.execEnv(record)), ...start.env };
      releaseSlot = this.ctx.orchestrator.admitExec(record);
      // The client going away kills the command; its slot and its activity end at once.
      const gone = new AbortController();
      let keepAwake: NodeJS.Timeout | undefined;
      const leave = () => {
        gone.abort();
        releaseSlot();
        clearInterval(keepAwake);
      };
      ws.once('close', leave);
      await this.ctx.sandboxes.touch(record.id);
      if (ws.readyState !== ws.OPEN) leave(); // it left while we got here
      // Output goes at the client's pace; a client that stops reading is cut off (config.execStallMs).
      const stallMs = this.ctx.config.execStallMs;
      const flow = new SocketFlow(ws, {
        stallMs: stallMs > 0 ? stallMs : undefined,
        onStall: () => {
          log.warn('execStream client too slow', { sandbox: record.id });
          flow.stop();
          gone.abort();
          ws.close(CloseCode.CLIENT_TOO_SLOW, closeReason(`ClientTooSlow: no output was read for ${stallMs / 1000} s; the command was killed`));
          // The close frame waits behind the unread output: a client that reads nothing is dropped.
          setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
        },
      });
      const send = (stream: number) => (chunk: Buffer) => flow.send(Buffer.concat([Buffer.of(stream), chunk]));
      const proc = await provider.execStream(record.id, start.command, { onStdout: send(STDOUT), onStderr: send(STDERR) }, {
        cwd: start.cwd,
        env,
        timeoutMs: start.timeoutMs,
        signal: gone.signal,
      });
      flow.control(proc);
      const entry = { proc, ws };
      this.running.add(entry);
      if (!gone.signal.aborted) keepAwake = keepSandboxAwake(this.ctx, record.id); // a running command is activity
      let stdinWaiting = 0;
      const onFrame = ({ data, isBinary }: { data: RawData; isBinary: boolean }) => {
        if (isBinary) {
          // Stdin at the command's pace: the client is not read while the command's side has not taken it.
          if (stdinWaiting++ === 0) ws.pause();
          void proc.writeStdin(toBuffer(data)).then(() => {
            if (--stdinWaiting === 0) ws.resume();
          });
          return;
        }
        const control = parseControl(toBuffer(data).toString('utf8'));
        if (control === 'eof') proc.closeStdin();
        else if (control === 'kill') proc.kill();
      };
      ws.off('message', buffer);
      for (const f of pending.splice(0)) onFrame(f);
      ws.on('message', (data: RawData, isBinary: boolean) => onFrame({ data, isBinary }));
      log.info('sandbox.execStream', { sandbox: record.id });
      const { exitCode, timedOut } = await proc.wait().finally(() => {
        clearInterval(keepAwake);
        flow.stop();
        this.running.delete(entry);
        void this.ctx.sandboxes.touch(record.id).catch(() => undefined);
      });
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'exit', exitCode, timedOut }));
        ws.close(CloseCode.NORMAL, `exit ${exitCode}`);
      }
    } catch (err) {
      refuseSocket(ws, err, log, {
        internalReason: 'InternalServerError: the command could not be started',
        logMessage: 'execStream failed',
        alsoInvalidRequest: [PathEscapeError],
      });
    } finally {
      releaseSlot();
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
