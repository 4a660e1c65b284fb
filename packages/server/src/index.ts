/**
 * @module @pocketenv/server
 * The Pocketenv control plane: `startServer` runs it in-process (what `pocketenv serve`
 * does); `createActorToken` / `revokeToken` manage local actors' tokens.
 */
import type { ServerOptions } from './config';
import { launch, type RunningServer } from './server';

export async function startServer(opts?: ServerOptions): Promise<RunningServer> {
  return (await launch(opts)).server;
}

export { createActorToken, listTokens, revokeToken, revokeTokenById, type AdminOptions } from './admin';
export type { TokenInfo } from './identity/actors';
export type { ServerOptions } from './config';
export type { RunningServer } from './server';
export type { IssuedToken } from './identity/actors';
export { DEFAULT_PORT, DEFAULT_IDLE_TIMEOUT_MS } from './config';
