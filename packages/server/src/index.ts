/**
 * @module @pocketenv/server
 * The Pocketenv control plane: `startServer` runs it in-process (what `pocketenv serve`
 * does); `createActorToken` / `revokeToken` manage local actors' tokens.
 */
import type { Env } from '@pocketenv/config';
import type { ServerOptions } from './config';
import { launch, type RunningServer } from './server';

/** Starts a server; unset options come from `env` (read once, here), a bad value throws a ConfigError before anything is written. */
export async function startServer(opts?: ServerOptions, env: Env = process.env): Promise<RunningServer> {
  return (await launch(opts, env)).server;
}

export { createActorToken, listTokens, revokeToken, revokeTokenById, type AdminOptions } from './admin';
export type { TokenInfo } from './identity/actors';
export type { ServerOptions } from './config';
export type { RunningServer } from './server';
export type { IssuedToken } from './identity/actors';
export { DEFAULT_PORT, DEFAULT_IDLE_TIMEOUT_MS, resolveConfig, type ServerConfig } from './config';
