/**
 * Starting and stopping the control plane. Order matters on start: data dir, database
 * (migrations), keys, owner token, reconciliation, and only then the HTTP listener, so no
 * request ever sees an unreconciled record.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LocalProvider, parseGvisorPlatform, type Provider } from '@pocketenv/runtime';
import { createApp, type InFlight } from './app';
import { resolveConfig, type ServerConfig, type ServerOptions } from './config';
import type { AppContext } from './context';
import { ensureDataDir } from './data-dir';
import { features, type UpgradeHandler } from './features';
import { openDatabase } from './db/index';
import { ActorStore } from './identity/actors';
import { bootstrapOwner } from './identity/bootstrap';
import { loadOrCreateBoxKeys } from './keys';
import { Logger } from './log';
import { Orchestrator } from './sandboxes/orchestrator';
import { ProviderRegistry } from './sandboxes/providers';
import { IdleReaper } from './sandboxes/reaper';
import { resolveLimits, SandboxQuotas } from './limits/index';
import { reconcile } from './sandboxes/reconcile';
import { SandboxRepository } from './sandboxes/repository';
import { IsolationPolicy } from './sandboxes/isolation';
import { SERVER_VERSION } from './version';

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  ownerToken: string;
  close(): Promise<void>;
}

/** In-flight requests get this long to finish on shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 30_000;

export function defaultProviders(config: ServerConfig): Provider[] {
  return [
    new LocalProvider({
      stateDir: path.join(config.dataDir, 'runtime', 'local'),
      gvisorPlatform: parseGvisorPlatform(config.gvisorPlatform, 'POCKETENV_GVISOR_PLATFORM'),
    }),
  ];
}

/** Starts the server and also hands back its context (for `testing.ts`; not exported from the package root). */
export async function launch(opts: ServerOptions = {}): Promise<{ server: RunningServer; ctx: AppContext }> {
  const config = resolveConfig(opts);
  const log = new Logger(config.log);
  await ensureDataDir(config.dataDir);
  const db = await openDatabase(config);
  let reaper: IdleReaper | undefined;
  const background: Array<{ stop(): Promise<void> }> = [];
  try {
    const keys = await loadOrCreateBoxKeys(config.dataDir);
    const actors = new ActorStore(db, config.didHost);
    const ownerToken = await bootstrapOwner(actors, config.dataDir, log);
    const providers = new ProviderRegistry(opts.providers ?? defaultProviders(config));
    const sandboxes = new SandboxRepository(db);
    const isolation = new IsolationPolicy(config.isolation);
    // A level every sandbox must use has to work here: refuse to start rather than fail each create.
    await isolation.assertRequiredLevelsWork(providers.all());
    const orchestrator = new Orchestrator(sandboxes, providers, log, isolation);
    orchestrator.setAdmission(new SandboxQuotas(sandboxes, resolveLimits()));
    const ctx: AppContext = { config, version: SERVER_VERSION, log, db, actors, sandboxes, providers, orchestrator, keys, isolation };

    for (const feature of features) if (feature.hook) orchestrator.use(feature.hook(ctx));
    await reconcile(sandboxes, providers, orchestrator, log);
    reaper = new IdleReaper(sandboxes, orchestrator, log, config.idleTimeoutMs, config.reapIntervalMs);
    reaper.start();

    const inFlight: InFlight = { count: 0, idle: [] };
    const httpServer = http.createServer(createApp(ctx, inFlight));
    const upgrades: UpgradeHandler[] = features.flatMap((f) => (f.upgrade ? [f.upgrade(ctx)] : []));
    httpServer.on('upgrade', (req, socket, head) => {
      if (!upgrades.some((handle) => handle(req, socket, head))) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      }
    });
    for (const feature of features) {
      const running = feature.start?.(ctx);
      if (running) background.push(running);
    }
    const port = await listen(httpServer, config.port, config.host);
    const url = `http://${urlHost(config.host)}:${port}`;
    log.info('listening', { url, dataDir: config.dataDir, providers: providers.names(), idleTimeoutMs: config.idleTimeoutMs });

    let closing: Promise<void> | undefined;
    const close = () => (closing ??= shutdown(ctx, httpServer, inFlight, reaper!, background));
    return { server: { url, port, dataDir: config.dataDir, ownerToken, close }, ctx };
  } catch (err) {
    await reaper?.stop();
    for (const b of background) await b.stop().catch(() => undefined);
    await db.destroy();
    throw err;
  }
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Graceful shutdown: stop accepting, let in-flight requests finish (bounded), wait for
 * lifecycle transitions, then stop sandboxes only if POCKETENV_STOP_ON_EXIT asks for it.
 */
async function shutdown(
  ctx: AppContext,
  httpServer: http.Server,
  inFlight: InFlight,
  reaper: IdleReaper,
  background: Array<{ stop(): Promise<void> }>,
): Promise<void> {
  ctx.log.info('shutting down', { inFlight: inFlight.count, stopSandboxes: ctx.config.stopOnExit });
  await reaper.stop();
  for (const b of background) await b.stop().catch((err: unknown) => ctx.log.warn('shutdown: background task did not stop cleanly', { err }));
  const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
  httpServer.closeIdleConnections();
  const drained = inFlight.count === 0 ? Promise.resolve() : new Promise<void>((resolve) => inFlight.idle.push(resolve));
  const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS).unref());
  if ((await Promise.race([drained, grace])) === 'timeout') {
    ctx.log.warn('shutdown: cutting requests that did not finish in time', { inFlight: inFlight.count });
  }
  httpServer.closeAllConnections();
  await closed;
  await ctx.orchestrator.drain();

  if (ctx.config.stopOnExit) {
    for (const record of await ctx.sandboxes.listByStatus('RUNNING')) {
      await ctx.orchestrator.stop(record, 'server shutdown').catch((err: unknown) => ctx.log.error('shutdown: could not stop sandbox', { sandbox: record.id, err }));
    }
  }
  await ctx.db.destroy();
  ctx.log.info('stopped');
}
