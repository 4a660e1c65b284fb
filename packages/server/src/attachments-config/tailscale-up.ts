/**
 * Handing the sandbox's Tailscale auth key to `tailscale up`. Our base images do not ship
 * Tailscale, so the usual outcome is "skipped": that is recorded as the key's `note` (returned
 * by getTailscaleAuthKey, shown by `pocketenv tailscale get`) and logged, with the reason.
 * Nothing here fails a start: a sandbox without its tailnet is still a working sandbox.
 *
 * `tailscale up` needs tailscaled running in the sandbox (e.g. as a service); when it is not,
 * tailscale's own error ends up in the note.
 */
import type { Provider } from '@pocketenv/runtime';
import type { AppContext } from '../context';
import type { SandboxRecord } from '../db/schema';
import { describeFailure } from '../errors';
import { nowIso } from '../ids';
import type { KeyStore } from './key-store';
import { openStoredText } from './sealed';

const PROBE_TIMEOUT_MS = 15_000;
const UP_TIMEOUT_MS = 60_000;

/** When the key is being applied: at a sandbox start, or at once because it was just put. */
export type TailscaleMoment = 'start' | 'put';

export async function applyTailscaleKey(ctx: AppContext, keys: KeyStore, provider: Provider, record: SandboxRecord, moment: TailscaleMoment): Promise<void> {
  const row = await keys.tailscaleKey(record.id);
  if (!row) return;
  const when = `${moment === 'start' ? 'at start' : 'when the key was put'} (${nowIso()})`;
  let note: string;
  try {
    const probe = await provider.exec(record.id, 'command -v tailscale', { cwd: '/', timeoutMs: PROBE_TIMEOUT_MS });
    if (probe.exitCode !== 0) {
      note = `skipped ${when}: the sandbox has no tailscale command (base ${record.base} does not ship Tailscale; \`command -v tailscale\` found nothing). Install Tailscale in the sandbox and run tailscaled, then restart it or put the key again.`;
      ctx.log.warn('tailscale.skipped', { sandbox: record.id, reason: 'no tailscale command in the sandbox', base: record.base });
    } else {
      const authKey = (await openStoredText(ctx.keys, 'the Tailscale auth key', row.sealed_auth_key)).trim();
      // The key goes through the environment, not the command line the server builds.
      const up = await provider.exec(record.id, 'tailscale up --auth-key="$POCKETENV_TS_AUTHKEY"', {
        cwd: '/',
        env: { POCKETENV_TS_AUTHKEY: authKey },
        timeoutMs: UP_TIMEOUT_MS,
      });
      if (up.exitCode === 0) {
        note = `applied ${when}: tailscale up succeeded`;
        ctx.log.info('tailscale.applied', { sandbox: record.id });
      } else {
        const said = firstLines(up.stderr.toString('utf8') || up.stdout.toString('utf8')).split(authKey).join('[redacted]');
        note = `failed ${when}: tailscale up exited with ${up.timedOut ? 'a timeout' : up.exitCode}${said ? `: ${said}` : ''}`;
        ctx.log.warn('tailscale.failed', { sandbox: record.id, exitCode: up.exitCode, timedOut: up.timedOut });
      }
    }
  } catch (err) {
    note = `failed ${when}: ${describeFailure(err)}`;
    ctx.log.warn('tailscale.failed', { sandbox: record.id, err: describeFailure(err) });
  }
  await keys.setTailscaleNote(record.id, note);
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' / ').slice(0, 400);
}
