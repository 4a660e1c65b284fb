/**
 * The streaming exec route (protocol in ./protocol.ts): authenticates like the terminal (bearer
 * header or one-use terminal token), finds the caller's running sandbox, runs the command with
 * the provider's execStream and relays its output as it is produced.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PathEscapeError, ProviderError, SandboxNotRunningError, UnsupportedCapabilityError, type ExecProcess } from '@pocketenv/runtime';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppContext } from '../context';
import type { Actor } from '../db/schema';
import { ProviderFailureError, describeFailure } from '../errors';
import type { UpgradeHandler } from '../features';
import { CloseCode, closeReason } from '../terminal/protocol';
import type { TerminalTokenStore } from '../terminal/tokens';
import { STDERR, STDOUT, parseControl, parseStart, sandboxOfExecPath } from './protocol';

const MAX_FRAME_BYTES = 4 * 1024 * 1024;

class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class ExecStreamRoute {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly running = new Set<{ proc: ExecProcess; ws: WebSocket }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly tokens: TerminalTokenStore,
  ) {}

  readonly handler: UpgradeHandler = (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://pocketenv.invalid');
    const idOrName = sandboxOfExecPath(url.pathname);
    if (idOrName === undefined) return false;
    this.wss.handleUpgrade(req, socket as Duplex, head, (ws) => void this.open(ws, req, url, idOrName));
    return true;
  };

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
    try {
      const actor = await this.authenticate(req, url);
      const record = await this.ctx.sandboxes.findOwned(actor.id, idOrName);
      if (!record) throw new Refusal(CloseCode.SANDBOX_NOT_FOUND, `SandboxNotFound: sandbox ${JSON.stringify(idOrName)} not found`);
      if (record.status !== 'RUNNING') {
        throw new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
      }
      const first = pending.shift() ?? (await new Promise<{ data: RawData; isBinary: boolean }>((resolve) => (firstFrame = resolve)));
      firstFrame = (f) => pending.push(f);
      if (first.isBinary) throw new Refusal(CloseCode.INVALID_REQUEST, 'InvalidRequest: the first frame must be a text {"type":"start",…} frame');
      const start = parseStart(toBuffer(first.data).toString('utf8'));
      if (typeof start === 'string') throw new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: ${start}`);

      const provider = this.ctx.orchestrator.providerOf(record);
      const env = { ...(await this.ctx.orchestrator.execEnv(record)), ...start.env };
      const send = (stream: number) => (chunk: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(stream), chunk]), { binary: true });
      };
      await this.ctx.sandboxes.touch(record.id);
      const proc = await provider.execStream(record.id, start.command, { onStdout: send(STDOUT), onStderr: send(STDERR) }, {
        cwd: start.cwd,
        env,
        timeoutMs: start.timeoutMs,
      });
      const entry = { proc, ws };
      this.running.add(entry);
      const keepAwake = this.keepAwake(record.id);
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
      const refusal = toRefusal(err);
      if (refusal.code === CloseCode.INTERNAL || refusal.code === CloseCode.PROVIDER_FAILURE) log.error('execStream failed', { err });
      if (ws.readyState === ws.OPEN) ws.close(refusal.code, closeReason(refusal.message));
    }
  }

  private async authenticate(req: IncomingMessage, url: URL): Promise<Actor> {
    const urlToken = url.searchParams.get('token');
    if (urlToken) {
      const actor = await this.tokens.consume(urlToken);
      if (!actor) throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, 'AuthenticationRequired: the token is invalid, expired or already used');
      return actor;
    }
    const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (header && header[1]!.length <= 512) {
      const actor = await this.ctx.actors.findByToken(header[1]!);
      if (actor) return actor;
      throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, 'AuthenticationRequired: the bearer token is invalid or has been revoked');
    }
    throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, 'AuthenticationRequired: send Authorization: Bearer <token> or ?token=<terminal token>');
  }

  /** A running command is activity: the idle reaper must not stop the sandbox under it. */
  private keepAwake(id: string): NodeJS.Timeout {
    const every = Math.max(250, Math.min(15_000, Math.floor(this.ctx.config.idleTimeoutMs / 4) || 15_000));
    const timer = setInterval(() => void this.ctx.sandboxes.touch(id).catch(() => undefined), every);
    timer.unref();
    return timer;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function toRefusal(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  if (err instanceof UnsupportedCapabilityError || err instanceof SandboxNotRunningError || err instanceof PathEscapeError) {
    return new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: ${err.message}`);
  }
  if (err instanceof ProviderError || err instanceof ProviderFailureError) {
    return new Refusal(CloseCode.PROVIDER_FAILURE, `SandboxProviderError: ${describeFailure(err)}`);
  }
  return new Refusal(CloseCode.INTERNAL, 'InternalServerError: the command could not be started');
}
