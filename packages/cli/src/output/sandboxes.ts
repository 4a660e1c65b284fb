import type { SandboxView as Sandbox } from '@pocketenv/sdk';
import type { Colors } from './color';
import { renderTable } from './table';
import { ago, humanDuration } from './time';

/**
 * The `ls`/`ps` table: NAME, BASE, PROVIDER, RUNS ON, STATUS, CREATED AT. PROVIDER is what the
 * sandbox was created with (a hosted name such as `cloudflare` from an official client), RUNS
 * ON the provider of the server that runs it. With `uptime`, running sandboxes show
 * "Up 5 minutes" as `docker ps` does.
 */
export function sandboxTable(sandboxes: Sandbox[], colors: Colors, opts: { uptime?: boolean } = {}): string {
  const now = Date.now();
  const rows = sandboxes.map((sb) => [
    colors.cyan(sb.name),
    sb.baseSandbox ?? '-',
    sb.provider ?? '-',
    sb.runsOn ?? sb.provider ?? '-',
    statusText(sb, colors, now, opts.uptime === true),
    ago(sb.createdAt, now),
  ]);
  return renderTable(['NAME', 'BASE', 'PROVIDER', 'RUNS ON', 'STATUS', 'CREATED AT'], rows, colors);
}

function statusText(sb: Sandbox, colors: Colors, now: number, uptime: boolean): string {
  const status = sb.status ?? '-';
  if (status === 'RUNNING') {
    const started = sb.startedAt ? Date.parse(sb.startedAt) : Number.NaN;
    return colors.green(uptime && !Number.isNaN(started) ? `Up ${humanDuration(now - started)}` : status);
  }
  if (status === 'ERROR') return colors.red(sb.error ? `ERROR (${sb.error})` : status);
  return status;
}
