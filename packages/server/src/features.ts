/**
 * Features: each attachment or side channel (variables, secrets, files, volumes, services,
 * ports and the preview proxy, copy store, backups, terminal, IDE…) plugs into the server
 * through this one small interface, so adding one is a folder plus one line in `features`.
 */
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Server } from '@atproto/xrpc-server';
import type { Express } from 'express';
import type { AppContext } from './context';
import type { LifecycleHook } from './sandboxes/hooks';
import { terminalFeature } from './terminal/index';
import { ideFeature } from './ide/index';
import { configAttachments } from './attachments-config/index';
import { copyFeature } from './copy/index';
import { backupsFeature } from './backups/index';
import { portsFeature } from './ports/index';
import { volumesFeature } from './volumes/index';
import { servicesFeature } from './services/index';
import { warmPoolFeature } from './pool/index';
import { execStreamFeature } from './exec-stream/index';

/** Takes an HTTP upgrade (WebSocket) when it is for this feature; returns false to pass. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface Feature {
  readonly name: string;
  /** Registers the feature's XRPC methods (validated by the lexicons). */
  registerXrpc?(server: Server, ctx: AppContext): void;
  /** Registers routes outside XRPC (e.g. /cp, previews). Mounted before the 404 handler. */
  registerRoutes?(app: Express, ctx: AppContext): void;
  /** Takes part in every sandbox's lifecycle (start spec, exec env, after start, stop, delete). */
  hook?(ctx: AppContext): LifecycleHook;
  /** WebSocket upgrades (terminal, preview proxy). */
  upgrade?(ctx: AppContext): UpgradeHandler;
  /** Background work (sweepers, supervisors); stopped on shutdown. */
  start?(ctx: AppContext): { stop(): Promise<void> } | void;
}

/** NOTE: append one line per feature; order is the order hooks run in. */
export const features: Feature[] = [
  ideFeature, // before ports: it guards VS Code's preview (port 1024) and passes every other request on
  portsFeature, // before the others: a host-form preview owns every path of its host, WebSocket upgrades included
  terminalFeature,
  configAttachments,
  copyFeature,
  backupsFeature,
  volumesFeature,
  servicesFeature,
  execStreamFeature,
  warmPoolFeature, // last: its stop() runs after the others' (pooled sandboxes are nobody's)
];
