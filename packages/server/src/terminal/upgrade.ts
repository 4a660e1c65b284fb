/**
 * The terminal route: takes `/pty/<sandbox>/ws` upgrades, then authenticates, finds the
 * caller's sandbox and opens a TerminalSession. The socket is accepted first and refused with a
 * close code (see protocol.ts) rather than an HTTP status, because a browser's WebSocket cannot
 * see the status of a refused handshake but does see a close code and reason.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProviderError, SandboxNotRunningError, UnsupportedCapabilityError } from '@pocketenv/runtime';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../context';
import type { Actor } from '../db/schema';
import { ProviderFailureError, describeFailure } from '../errors';
import type { UpgradeHandler } from '../features';
import { CloseCode, DEFAULT_COLS, DEFAULT_ROWS, closeReason, parseCells, sandboxOfPath } from './protocol';
import { TerminalSession } from './session';
import type { TerminalTokenStore } from './tokens';

/** Input frames are keystrokes and pastes; nothing legitimate comes near this. */
const MAX_FRAME_BYTES = 1024 * 1024;

class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class TerminalRoute {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sessions = new Set<TerminalSession>();

  constructor(
    private readonly ctx: AppContext,
    private readonly tokens: TerminalTokenStore,
  ) {}

  readonly handler: UpgradeHandler = (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://pocketenv.invalid');
    const idOrName = sandboxOfPath(url.pathname);
    if (idOrName === undefined) return false;
    this.wss.handleUpgrade(req, socket as Duplex, head, (ws) => void this.open(ws, req, url, idOrName));
    return true;
  };

  /** Ends every open terminal (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private async open(ws: WebSocket, req: IncomingMessage, url: URL, idOrName: string): Promise<void> {
    // Frames may arrive while we authenticate (the CLI sends its size at once): keep them.
    const pending: Array<{ data: Buffer; isBinary: boolean }> = [];
    const buffer = (data: Buffer, isBinary: boolean) => pending.push({ data, isBinary });
    ws.on('message', buffer);
    ws.on('error', () => undefined); // a reset connection is just a closed terminal
    const log = this.ctx.log.child({ feature: 'terminal' });
    try {
      const actor = await this.authenticate(req, url);
      const record = await this.ctx.sandboxes.findOwned(actor.id, idOrName);
      if (!record) throw new Refusal(CloseCode.SANDBOX_NOT_FOUND, `SandboxNotFound: sandbox ${JSON.stringify(idOrName)} not found`);
      if (record.status !== 'RUNNING') {
        throw new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: sandbox ${record.name} is ${record.status}, not RUNNING; start it first`);
      }
      const provider = this.ctx.orchestrator.providerOf(record);
      const size = { cols: parseCells(url.searchParams.get('cols'), DEFAULT_COLS), rows: parseCells(url.searchParams.get('rows'), DEFAULT_ROWS) };
      const env = await this.ctx.orchestrator.execEnv(record);
      const command = await provider.terminalCommand(record.id, { ...size, env });
      if (ws.readyState !== ws.OPEN) {
        await command.dispose(); // the client left while we were getting ready
        return;
      }
      const session = new TerminalSession({ ws, command, size, pending, log: log.child({ sandbox: record.id }) });
      ws.off('message', buffer);
      this.sessions.add(session);
      const keepAwake = this.keepAwake(record.id);
      ws.once('close', () => {
        clearInterval(keepAwake);
        this.sessions.delete(session);
        void this.ctx.sandboxes.touch(record.id).catch(() => undefined);
      });
      try {
        await session.start();
      } catch (err) {
        await command.dispose().catch(() => undefined);
        throw err;
      }
      log.info('terminal.opened', { sandbox: record.id, actor: actor.did });
    } catch (err) {
      const refusal = toRefusal(err);
      if (refusal.code === CloseCode.INTERNAL || refusal.code === CloseCode.PROVIDER_FAILURE) log.error('terminal.open failed', { err });
      if (ws.readyState === ws.OPEN) ws.close(refusal.code, closeReason(refusal.message));
    }
  }

  /** The terminal token in the URL (`token`, or `t` as the hosted worker called it), else a bearer token. */
  private async authenticate(req: IncomingMessage, url: URL): Promise<Actor> {
    const urlToken = url.searchParams.get('token') ?? url.searchParams.get('t');
    if (urlToken) {
      const actor = await this.tokens.consume(urlToken);
      if (!actor) {
        throw new Refusal(
          CloseCode.AUTHENTICATION_REQUIRED,
          'AuthenticationRequired: the terminal token is invalid, expired or already used; get a new one from getTerminalToken',
        );
      }
      return actor;
    }
    const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (header && header[1]!.length <= 512) {
      const actor = await this.ctx.actors.findByToken(header[1]!);
      if (actor) return actor;
      throw new Refusal(CloseCode.AUTHENTICATION_REQUIRED, 'AuthenticationRequired: the bearer token is invalid or has been revoked');
    }
    throw new Refusal(
      CloseCode.AUTHENTICATION_REQUIRED,
      'AuthenticationRequired: pass ?token=<terminal token> (from getTerminalToken) or an Authorization: Bearer header',
    );
  }

  /** An open terminal is activity: the idle reaper must not stop the sandbox under it. */
  private keepAwake(id: string): NodeJS.Timeout {
    const every = Math.max(250, Math.min(15_000, Math.floor(this.ctx.config.idleTimeoutMs / 4) || 15_000));
    void this.ctx.sandboxes.touch(id).catch(() => undefined);
    const timer = setInterval(() => void this.ctx.sandboxes.touch(id).catch(() => undefined), every);
    timer.unref();
    return timer;
  }
}

function toRefusal(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  if (err instanceof UnsupportedCapabilityError || err instanceof SandboxNotRunningError) {
    return new Refusal(CloseCode.INVALID_REQUEST, `InvalidRequest: ${err.message}`);
  }
  if (err instanceof ProviderError || err instanceof ProviderFailureError) {
    return new Refusal(CloseCode.PROVIDER_FAILURE, `SandboxProviderError: ${describeFailure(err)}`);
  }
  return new Refusal(CloseCode.INTERNAL, 'InternalServerError: the terminal could not be opened');
}
