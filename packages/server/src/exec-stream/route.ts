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
import { CloseCode } from '../terminal/protocol';
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
      const send = (stream: number) => (chunk: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(stream), chunk]), { binary: true });
      };
      releaseSlot = this.ctx.orchestrator.admitExec(record);
      await this.ctx.sandboxes.touch(record.id);
      const proc = await provider.execStream(record.id, start.command, { onStdout: send(STDOUT), onStderr: send(STDERR) }, {
        cwd: start.cwd,
        env,
        timeoutMs: start.timeoutMs,
      });
      const entry = { proc, ws };
      this.running.add(entry);
      const keepAwake = keepSandboxAwake(this.ctx, record.id); // a running command is activity
      const onFrame = ({ data, isBinary }: { data: RawData; isBinary: boolean }) => {
        if (isBinary) return proc.writeStdin(toBuffer(data));
        const control = parseControl(toBuffer(data).toString('utf8'));
        if (control === 'eof') proc.closeStdin();
        else if (control === 'kill') proc.kill();
      };
      ws.off('message', buffer);
      for (const f of pending.splice(0)) onFrame(f);
      ws.on('message', (data: RawData, isBinary: boolean) => onFrame({ data, isBinary }));
      ws.once('close', () => proc.kill()); // nobody waits for it any more (a no-op once it exited)
      log.info('sandbox.execStream', { sandbox: record.id });
      const { exitCode, timedOut } = await proc.wait();
      clearInterval(keepAwake);
      this.running.delete(entry);
      void this.ctx.sandboxes.touch(record.id).catch(() => undefined);
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
