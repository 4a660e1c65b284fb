/**
 * How the configuration reaches a sandbox:
 * - variables and secrets: through `execEnv`, read from the database for every exec, terminal
 *   and service, so a change is seen by the next command without a restart. They are NOT put
 *   in the start spec's env: the local provider keeps that env on disk (start.json), where a
 *   secret's plaintext has no business, and a deleted variable would linger there until the
 *   next start. A secret wins over a variable of the same name.
 * - files and the SSH key pair: written by the provider at every start (`startSpec.files`).
 * - known_hosts and the Tailscale key: after the start, with commands in the sandbox.
 */
import type { FileToWrite } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { describeFailure } from '../errors';
import type { LifecycleHook } from '../sandboxes/hooks';
import type { ConfigStores } from './stores';
import { openStored, openStoredText } from './sealed';
import { finishSshSetup, sshKeyFiles } from './ssh-install';
import { applyTailscaleKey } from './tailscale-up';

export function configHook(ctx: AppContext, stores: ConfigStores): LifecycleHook {
  return {
    name: 'config-attachments',

    async startSpec(record) {
      return { files: [...(await fileAttachments(ctx, stores, record)), ...(await sshFiles(ctx, stores, record))] };
    },

    async afterStart(record) {
      const provider = ctx.orchestrator.providerOf(record);
      if (await stores.keys.sshKeys(record.id)) {
        // known_hosts only makes the keys nicer to use: a failure is logged, the start goes on.
        await finishSshSetup(provider, record.id).catch((err: unknown) =>
          ctx.log.warn('ssh.known_hosts failed', { sandbox: record.id, err: describeFailure(err) }),
        );
      }
      await applyTailscaleKey(ctx, stores.keys, provider, record, 'start');
    },

    async execEnv(record) {
      const env: Record<string, string> = {};
      for (const v of await stores.variables.forSandbox(record.id)) env[v.name] = v.value;
      for (const s of await stores.secrets.forSandbox(record.id)) {
        env[s.name] = await openStoredText(ctx.keys, `secret ${s.name}`, s.sealed_value);
      }
      return env;
    },
  };
}

async function fileAttachments(ctx: AppContext, stores: ConfigStores, record: SandboxRecord): Promise<FileToWrite[]> {
  const files: FileToWrite[] = [];
  for (const f of await stores.files.forSandbox(record.id)) {
    files.push({ path: f.path, content: await openStored(ctx.keys, `file ${f.path}`, f.sealed_content), mode: 0o644 });
  }
  return files;
}

async function sshFiles(ctx: AppContext, stores: ConfigStores, record: SandboxRecord): Promise<FileToWrite[]> {
  const keys = await stores.keys.sshKeys(record.id);
  if (!keys) return [];
  return sshKeyFiles(await openStoredText(ctx.keys, 'the SSH private key', keys.sealed_private_key), keys.public_key);
}
