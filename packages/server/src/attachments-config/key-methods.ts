/**
 * io.pocketenv.sandbox.putSshKeys / getSshKeys / putTailscaleAuthKey / getTailscaleAuthKey.
 * The private key and the auth key arrive sealed (or in plaintext, which the server seals) and
 * are stored sealed; reads return only the masked copy. Both are applied at once when the
 * sandbox is running, and at every start.
 */
import type { Server } from '@atproto/xrpc-server';
import type { AppContext } from '../context';
import { InvalidInputError, NotFoundError } from '../errors';
import { ownedSandbox, sandboxFromBodyOrQuery } from '../xrpc/lookup';
import { authedMethod } from '../xrpc/method';
import { wrappedAndFlat } from '../xrpc/wrap';
import { changeThenApply } from './apply';
import { maskPrivateKey, maskValue, acceptSealedText, safeRedacted } from './sealed';
import { checkPrivateKey, checkPublicKey, finishSshSetup, sshKeyFiles } from './ssh-install';
import type { ConfigStores } from './stores';
import { applyTailscaleKey } from './tailscale-up';

export function registerKeyMethods(server: Server, ctx: AppContext, { keys }: ConfigStores): void {
  // The contract sends {id, …}; the Go SDK sends ?id= and no id in the body.
  authedMethod(server, ctx, 'io.pocketenv.sandbox.putSshKeys', async ({ actor, params, input }) => {
    const record = await sandboxFromBodyOrQuery(ctx, actor, input.id, params.id);
    const publicKey = checkPublicKey('publicKey', input.publicKey);
    const { sealed, text: privateKey } = await acceptSealedText(ctx.keys, 'privateKey', input.privateKey);
    checkPrivateKey('privateKey', privateKey);
    const redacted = safeRedacted(input.redacted, privateKey, maskPrivateKey);
    await changeThenApply(ctx, record, {
      field: 'privateKey',
      what: 'the SSH key pair',
      change: async () => {
        const previous = await keys.sshKeys(record.id);
        await keys.putSshKeys(record.id, { sealed_private_key: sealed, public_key: publicKey, redacted });
        return previous;
      },
      apply: async (provider, running) => {
        await provider.writeFiles(running.id, sshKeyFiles(privateKey, publicKey));
        await finishSshSetup(provider, running.id);
      },
      undo: (previous) => keys.restoreSshKeys(record.id, previous),
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.getSshKeys', async ({ actor, params }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const row = await keys.sshKeys(record.id);
    if (!row) throw new NotFoundError(`sandbox ${record.name} has no SSH keys`);
    return wrappedAndFlat('sshKeys', { id: record.id, privateKey: row.redacted, publicKey: row.public_key, redacted: row.redacted, createdAt: row.created_at });
  });

  // The contract's shape is {id, authKey, redacted?}; the Gleam SDK sends ?id= and {tailscaleAuthKey}.
  authedMethod(server, ctx, 'io.pocketenv.sandbox.putTailscaleAuthKey', async ({ actor, params, input }) => {
    const sealedKey = input?.authKey ?? input?.tailscaleAuthKey;
    const record = await sandboxFromBodyOrQuery(ctx, actor, input?.id, params.id);
    if (sealedKey === undefined) throw new InvalidInputError('authKey', 'is required (the Tailscale auth key, sealed or not)');
    const { sealed, text } = await acceptSealedText(ctx.keys, 'authKey', sealedKey);
    const authKey = text.trim();
    if (authKey === '' || /\s/.test(authKey)) throw new InvalidInputError('authKey', 'the value is not an auth key (empty, or it has spaces or line breaks)');
    const redacted = safeRedacted(input?.redacted, authKey, maskValue);
    await changeThenApply(ctx, record, {
      field: 'authKey',
      what: 'the Tailscale auth key',
      change: () => keys.putTailscaleKey(record.id, { sealed_auth_key: sealed, redacted }),
      // Never throws: the outcome (applied, skipped and why, failed) is the key's note.
      apply: (provider, running) => applyTailscaleKey(ctx, keys, provider, running, 'put'),
      undo: async () => undefined,
    });
    return {};
  });

  authedMethod(server, ctx, 'io.pocketenv.sandbox.getTailscaleAuthKey', async ({ actor, params }) => {
    const record = await ownedSandbox(ctx, actor, params.id);
    const row = await keys.tailscaleKey(record.id);
    if (!row) throw new NotFoundError(`sandbox ${record.name} has no Tailscale auth key`);
    // `note` (our addition, not in the lexicon yet): what happened when the key was last applied.
    const view = { id: record.id, authKey: row.redacted, redacted: row.redacted, createdAt: row.created_at, ...(row.note ? { note: row.note } : {}) };
    return view;
  });
}
