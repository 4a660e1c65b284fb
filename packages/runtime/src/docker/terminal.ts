/**
 * Interactive terminals in a docker sandbox. The engine allocates the PTY inside the container
 * (a `Tty: true` exec); the command handed to the caller is a small relay (terminal-relay.mjs)
 * that the caller runs in its own host PTY: it attaches to the exec, relays raw bytes and exits
 * with the shell's exit code. `resize` sets the inner PTY's size through the engine (the kernel
 * then signals the shell's foreground job, as a terminal emulator's resize would).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import type { TerminalCommand } from '../provider/types';
import { checkWindowSize } from '../shared/terminal-shell';
import { killTagged } from './exec';

const RELAY = fileURLToPath(new URL('./terminal-relay.mjs', import.meta.url));
/** How long a shell may outlive its terminal before dispose() ends it. */
const HANGUP_GRACE_MS = 2000;

/** Dockerode options as JSON (PEM buffers as text) for the relay process. */
function serializable(options: Dockerode.DockerOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  return out;
}

export async function terminalCommand(
  container: Dockerode.Container,
  exec: Dockerode.Exec,
  tag: string,
  where: { connection: Dockerode.DockerOptions; ttyDir: string; hostSweep: boolean },
  size: { cols: number; rows: number },
): Promise<TerminalCommand> {
  const { connection, ttyDir } = where;
  checkWindowSize(size.cols, size.rows);
  await mkdir(ttyDir, { recursive: true, mode: 0o700 });
  const connectionFile = join(ttyDir, `${tag}.json`);
  await writeFile(connectionFile, JSON.stringify(serializable(connection)), { mode: 0o600 });
  let disposed = false;
  return {
    file: process.execPath,
    args: [RELAY, connectionFile, exec.id, String(size.cols), String(size.rows)],
    async resize(cols, rows) {
      checkWindowSize(cols, rows);
      if (disposed) return;
      // Before the relay started the exec, the engine refuses a resize: the relay sets the size itself then.
      await exec.resize({ h: rows, w: cols }).catch(() => undefined);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await rm(connectionFile, { force: true });
      const deadline = Date.now() + HANGUP_GRACE_MS;
      while (Date.now() < deadline) {
        const info = await exec.inspect().catch(() => undefined);
        if (!info?.Running) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await killTagged(container, tag, where.hostSweep);
    },
  };
}
