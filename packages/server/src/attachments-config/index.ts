/**
 * Configuration attachments: variables, secrets, files, the SSH key pair and the Tailscale auth
 * key of a sandbox (io.pocketenv.variable.*, secret.*, file.*, sandbox.put/getSshKeys,
 * sandbox.put/getTailscaleAuthKey). Stored in migration 0002's tables, owner-checked, applied at
 * every start (hook.ts) and, where it makes sense, at once to a running sandbox (apply.ts).
 */
import type { Feature } from '../features';
import { registerFileMethods } from './file-methods';
import { configHook } from './hook';
import { registerKeyMethods } from './key-methods';
import { registerSecretMethods } from './secret-methods';
import { configStores } from './stores';
import { registerVariableMethods } from './variable-methods';

export const configAttachments: Feature = {
  name: 'config-attachments',
  registerXrpc(server, ctx) {
    const stores = configStores(ctx.db);
    registerVariableMethods(server, ctx, stores);
    registerSecretMethods(server, ctx, stores);
    registerFileMethods(server, ctx, stores);
    registerKeyMethods(server, ctx, stores);
  },
  hook: (ctx) => configHook(ctx, configStores(ctx.db)),
};

export { prepareCreateAttachments } from './create-attachments';
