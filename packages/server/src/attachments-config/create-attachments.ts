/**
 * createSandbox's `envs` and `secrets`: checked before anything is created (a bad name or a
 * value sealed to another key is a 400 and no sandbox is made; a plaintext secret, as the JS
 * SDK sends them, is sealed by the server), then stored right after the sandbox record and
 * before its first start, in one transaction, so the first start has them.
 * A name given twice keeps its last value, as addVariable would.
 */
import type { SandboxDefs } from '@pocketenv/lexicons';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { nowIso } from '../ids';
import { attachmentId } from './ids';
import { checkSealedSecret } from './secret-methods';
import { checkEnvName, checkEnvValue } from './validate';

export type AttachAtCreate = (record: SandboxRecord) => Promise<void>;

export async function prepareCreateAttachments(
  ctx: AppContext,
  envs: SandboxDefs.EnvVar[] | undefined,
  secrets: SandboxDefs.SealedSecret[] | undefined,
): Promise<AttachAtCreate | undefined> {
  const variables = new Map<string, string>();
  envs?.forEach((v, i) => variables.set(checkEnvName(`envs[${i}].name`, v.name), checkEnvValue(`envs[${i}].value`, v.value)));
  const sealed = new Map<string, string>();
  for (const [i, s] of (secrets ?? []).entries()) {
    sealed.set(checkEnvName(`secrets[${i}].name`, s.name), await checkSealedSecret(ctx, `secrets[${i}].value`, s.value));
  }
  if (variables.size === 0 && sealed.size === 0) return undefined;

  return async (record) => {
    const now = nowIso();
    await ctx.db.transaction().execute(async (tx) => {
      if (variables.size) {
        await tx
          .insertInto('variables')
          .values([...variables].map(([name, value]) => ({ id: attachmentId('var'), sandbox_id: record.id, name, value, created_at: now, updated_at: now })))
          .execute();
      }
      if (sealed.size) {
        await tx
          .insertInto('secrets')
          .values([...sealed].map(([name, value]) => ({ id: attachmentId('sec'), sandbox_id: record.id, name, sealed_value: value, created_at: now, updated_at: now })))
          .execute();
      }
    });
  };
}
