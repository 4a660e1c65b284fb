/** The sandbox's SSH key pair and Tailscale auth key: one of each per sandbox, secrets stored sealed. */
import type { Selectable } from 'kysely';
import type { Db } from '../db/index';
import type { SshKeyTable, TailscaleKeyTable } from '../db/schema';
import { nowIso } from '../ids';

export type SshKeyRow = Selectable<SshKeyTable>;
export type TailscaleKeyRow = Selectable<TailscaleKeyTable>;

export class KeyStore {
  constructor(private readonly db: Db) {}

  sshKeys(sandboxId: string): Promise<SshKeyRow | undefined> {
    return this.db.selectFrom('ssh_keys').selectAll().where('sandbox_id', '=', sandboxId).executeTakeFirst();
  }

  /** Replaces the key pair (createdAt is when this pair was put). */
  async putSshKeys(sandboxId: string, keys: { sealed_private_key: string; public_key: string; redacted: string }): Promise<void> {
    const now = nowIso();
    await this.db
      .insertInto('ssh_keys')
      .values({ sandbox_id: sandboxId, ...keys, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('sandbox_id').doUpdateSet({ ...keys, created_at: now, updated_at: now }))
      .execute();
  }

  /** Puts back what was there before a put the sandbox refused (or removes the new row). */
  async restoreSshKeys(sandboxId: string, previous: SshKeyRow | undefined): Promise<void> {
    await this.db.deleteFrom('ssh_keys').where('sandbox_id', '=', sandboxId).execute();
    if (previous) await this.db.insertInto('ssh_keys').values(previous).execute();
  }

  tailscaleKey(sandboxId: string): Promise<TailscaleKeyRow | undefined> {
    return this.db.selectFrom('tailscale_keys').selectAll().where('sandbox_id', '=', sandboxId).executeTakeFirst();
  }

  /** Replaces the auth key; the note about the previous key goes with it. */
  async putTailscaleKey(sandboxId: string, key: { sealed_auth_key: string; redacted: string }): Promise<void> {
    const now = nowIso();
    await this.db
      .insertInto('tailscale_keys')
      .values({ sandbox_id: sandboxId, ...key, note: null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('sandbox_id').doUpdateSet({ ...key, note: null, created_at: now, updated_at: now }))
      .execute();
  }

  async setTailscaleNote(sandboxId: string, note: string): Promise<void> {
    await this.db.updateTable('tailscale_keys').set({ note, updated_at: nowIso() }).where('sandbox_id', '=', sandboxId).execute();
  }
}
