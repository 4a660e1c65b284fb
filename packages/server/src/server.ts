/**
 * Starting and stopping the control plane. Order matters on start: data dir, database
 * (migrations), keys, owner token, reconciliation, and only then the HTTP listener, so no
 * request ever sees an unreconciled record.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Env } from '@pocketenv/config';
import { defaultEndpoint, DockerProvider, engineAnswers, LocalProvider, parseEndpoint, type Provider } from '@pocketenv/runtime';
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
import { SandboxQuotas } from './limits/index';
import { reconcile } from './sandboxes/reconcile';
import { SandboxRepository } from './sandboxes/repository';
import { SERVER_VERSION } from './version';
import { BuildQueue } from './bases/builds';
import { baseReady, prebuildJobs } from './bases/jobs';

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  ownerToken: string;
  /** What it builds in the background since it started (`base node`, `code-server`…), in order. */
  prebuilding: string[];
  close(): Promise<void>;
}

/** In-flight requests get this long to finish on shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 30_000;

export async function defaultProviders(config: ServerConfig): Promise<Provider[]> {
  const { imageDir, toolsDir, execAgent } = config.local;
  const providers: Provider[] = [new LocalProvider({ stateDir: path.join(config.dataDir, 'runtime', 'local'), imageDir, toolsDir, execAgent })];
  const docker = await dockerProvider(config);
  if (docker) providers.push(docker);
  return providers;
}

/**
 * POCKETENV_DOCKER: `off`; an endpoint (always registered: describeServer shows whether it
 * answers); or `auto`, registered only when an engine answers at $DOCKER_HOST or the default socket.
 */
async function dockerProvider(config: ServerConfig): Promise<Provider | undefined> {
  if (config.docker === 'off') return undefined;
  const endpoint = config.docker === 'auto' ? defaultEndpoint() : config.docker;
  if (config.docker === 'auto' && !(await engineAnswers(parseEndpoint(endpoint)))) return undefined;
  const { imageDir, toolsDir } = config.local;
  return new DockerProvider({ stateDir: path.join(config.dataDir, 'runtime', 'docker'), endpoint, diskLimit: config.dockerDiskLimit, imageDir, toolsDir });
}

/**
 * Starts the server and also hands back its context (for `testing.ts`; not exported from the
 * package root). `env` is read here, once, before anything is written.
 */
export async function launch(opts: ServerOptions = {}, env: Env = process.env): Promise<{ server: RunningServer; ctx: AppContext }> {
  const config = resolveConfig(opts, env);
  const log = new Logger(config.log, {}, undefined, config.logDebug);
  // Alias targets are checked against the providers here, still before anything is written.
  const providers = new ProviderRegistry(opts.providers ?? (await defaultProviders(config)), config.providerAliases);
  await ensureDataDir(config.dataDir);
  const db = await openDatabase(config);
  let reaper: IdleReaper | undefined;
  let builds: BuildQueue | undefined;
  const background: Array<{ stop(): Promise<void> }> = [];
  try {
    const keys = await loadOrCreateBoxKeys(config.dataDir);
    const actors = new ActorStore(db, config.didHost);
    const ownerToken = await bootstrapOwner(actors, config.dataDir, log);
    const sandboxes = new SandboxRepository(db);
    const orchestrator = new Orchestrator(sandboxes, providers, log);
    orchestrator.setAdmission(new SandboxQuotas(sandboxes, config.limits));
    builds = new BuildQueue(log.child({ component: 'builds' }));
    const ctx: AppContext = { config, version: SERVER_VERSION, log, db, actors, sandboxes, providers, orchestrator, keys, builds };
    orchestrator.setBaseReadiness((provider, base) => baseReady(ctx, ctx.builds, provider, base));
    const prebuild = await prebuildJobs(ctx);

    for (const feature of features) if (feature.hook) orchestrator.use(feature.hook(ctx));
    await reconcile(sandboxes, providers, orchestrator, log);
    reaper = new IdleReaper(sandboxes, orchestrator, log, {
      idleTimeoutMs: config.idleTimeoutMs,
      idleAction: config.idleAction,
      stopAfterPausedMs: config.stopAfterPausedMs,
      intervalMs: config.reapIntervalMs,
    });
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
    log.info('listening', { url, dataDir: config.dataDir, providers: providers.names(), idleTimeoutMs: config.idleTimeoutMs, idleAction: config.idleAction });
    // Listening first: the other bases and code-server build while requests are served.
    for (const job of prebuild) await builds.add(job);
    const prebuilding = prebuild.filter((job) => ctx.builds.state(job.key)?.status !== 'ready').map((job) => job.label);

    let closing: Promise<void> | undefined;
    const close = () => (closing ??= shutdown(ctx, httpServer, inFlight, reaper!, background));
    return { server: { url, port, dataDir: config.dataDir, ownerToken, prebuilding, close }, ctx };
  } catch (err) {
    await builds?.stop();
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
  // A build in progress is stopped (it leaves nothing half-built); the next start queues it again.
  await ctx.builds.stop();
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
  await ctx.sandboxes.flushActivity().catch((err: unknown) => ctx.log.warn('shutdown: could not write the last activity', { err }));
  await ctx.db.destroy();
  ctx.log.info('stopped');
}
