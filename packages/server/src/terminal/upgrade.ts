/**
 * The terminal route: takes `/pty/<sandbox>/ws` upgrades, then authenticates, finds the
 * caller's sandbox and opens a TerminalSession. The socket is accepted first and refused with a
 * close code (see protocol.ts) rather than an HTTP status, because a browser's WebSocket cannot
 * see the status of a refused handshake but does see a close code and reason (socket-auth.ts).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../context';
import type { UpgradeHandler } from '../features';
import { DEFAULT_COLS, DEFAULT_ROWS, parseCells, sandboxOfPath } from './protocol';
import { TerminalSession } from './session';
import { authenticateSocket, keepSandboxAwake, refuseSocket, runningSandboxOf, sandboxUpgrade, type SocketCredentials } from './socket-auth';
import type { TerminalTokenStore } from './tokens';

/** Input frames are keystrokes and pastes; nothing legitimate comes near this. */
const MAX_FRAME_BYTES = 1024 * 1024;

/** The terminal token in the URL (`token`, or `t` as the hosted worker called it), else a bearer token. */
const CREDENTIALS: SocketCredentials = {
  tokenParams: ['token', 't'],
  badTokenReason: 'AuthenticationRequired: the terminal token is invalid, expired or already used; get a new one from getTerminalToken',
  missingReason: 'AuthenticationRequired: pass ?token=<terminal token> (from getTerminalToken) or an Authorization: Bearer header',
};

export class TerminalRoute {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sessions = new Set<TerminalSession>();

  constructor(
    private readonly ctx: AppContext,
    private readonly tokens: TerminalTokenStore,
  ) {}

  readonly handler: UpgradeHandler = sandboxUpgrade(this.wss, sandboxOfPath, (ws, req, url, idOrName) => this.open(ws, req, url, idOrName));

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
      const actor = await authenticateSocket(this.ctx, this.tokens, req, url, CREDENTIALS);
      const record = await runningSandboxOf(this.ctx, actor, idOrName);
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
      void this.ctx.sandboxes.touch(record.id).catch(() => undefined); // opening one is activity too
      const keepAwake = keepSandboxAwake(this.ctx, record.id);
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
      refuseSocket(ws, err, log, { internalReason: 'InternalServerError: the terminal could not be opened', logMessage: 'terminal.open failed' });
    }
  }
}
