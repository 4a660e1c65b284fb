/**
 * The terminal upgrades: takes the upgrades of every terminal route (./routes.ts), then
 * authenticates, finds the caller's sandbox and opens a TerminalSession with the route's
 * framing. The socket is accepted first and refused with a close code (see protocol.ts) rather
 * than an HTTP status, because a browser's WebSocket cannot see the status of a refused
 * handshake but does see a close code and reason (socket-auth.ts); protocols with an error
 * frame get it just before the close.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AppContext } from '../context';
import type { UpgradeHandler } from '../features';
import { createFraming, sendFrame } from './framing';
import { matchTerminalRoute, terminalRoutes, type TerminalRouteSpec } from './routes';
import { TerminalSession } from './session';
import { authenticateSocket, keepSandboxAwake, refuseSocket, runningSandboxOf, sandboxUpgrade, type SocketCaller } from './socket-auth';
import type { SshSessionStore } from './ssh-sessions';
import type { TerminalTokenStore } from './tokens';

/** Input frames are keystrokes and pastes; nothing legitimate comes near this. */
const MAX_FRAME_BYTES = 1024 * 1024;

export class TerminalRoute {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sessions = new Set<TerminalSession>();
  private readonly routes: TerminalRouteSpec[];

  constructor(
    private readonly ctx: AppContext,
    private readonly tokens: TerminalTokenStore,
    sshSessions: SshSessionStore,
  ) {
    this.routes = terminalRoutes(sshSessions);
  }

  readonly handler: UpgradeHandler = sandboxUpgrade(
    this.wss,
    (pathname) => matchTerminalRoute(this.routes, pathname),
    (ws, req, url, { route, captured }) => this.open(ws, req, url, route, captured),
  );

  /** Ends every open terminal (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private async open(ws: WebSocket, req: IncomingMessage, url: URL, route: TerminalRouteSpec, captured: string): Promise<void> {
    // Frames may arrive while we authenticate (the CLI sends its size at once): keep them.
    const pending: Array<{ data: Buffer; isBinary: boolean }> = [];
    const buffer = (data: Buffer, isBinary: boolean) => pending.push({ data, isBinary });
    ws.on('message', buffer);
    ws.on('error', () => undefined); // a reset connection is just a closed terminal
    const log = this.ctx.log.child({ feature: 'terminal', protocol: route.name });
    let caller: SocketCaller | undefined;
    try {
      caller = await authenticateSocket(this.ctx, this.tokens, req, url, route.credentials);
      const { idOrName, size } = route.target(caller.actor, captured, url);
      const record = await runningSandboxOf(this.ctx, caller.actor, idOrName);
      const provider = this.ctx.orchestrator.providerOf(record);
      const env = await this.ctx.orchestrator.execEnv(record);
      const command = await provider.terminalCommand(record.id, { ...size, env });
      if (ws.readyState !== ws.OPEN) {
        await command.dispose(); // the client left while we were getting ready
        return;
      }
      const framing = createFraming(route.framing(caller.credential));
      const session = new TerminalSession({ ws, command, size, framing, pending, log: log.child({ sandbox: record.id }), hostPath: this.ctx.config.hostPath });
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
      log.info('terminal.opened', { sandbox: record.id, actor: caller.actor.did });
    } catch (err) {
      const framing = createFraming(route.framing(caller?.credential));
      refuseSocket(ws, err, log, { internalReason: 'InternalServerError: the terminal could not be opened', logMessage: 'terminal.open failed' }, (refusal) =>
        sendFrame(ws, framing.error?.(refusal.message)),
      );
    }
  }
}
