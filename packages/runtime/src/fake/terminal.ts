/**
 * Terminals of the fake provider: the command to run in the caller's PTY is a launcher
 * script that records its pid, sets the window size, enters the working directory and execs
 * a login shell with exactly the sandbox's environment (`env -i`), so the shell IS the
 * process in the caller's PTY. The launcher holds the environment (secrets included): it is
 * written 0700 in a 0700 directory and deletes itself as soon as it runs (dispose removes it
 * when it never ran).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TerminalCommand } from '../provider/types';
import { checkWindowSize, LOGIN_SHELL, shellControls } from '../local/terminal';
import { MARKER } from './processes';

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export interface FakeTerminalSpec {
  ttyDir: string;
  hostCwd: string;
  sandboxCwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

export async function fakeTerminalCommand(spec: FakeTerminalSpec): Promise<TerminalCommand> {
  checkWindowSize(spec.cols, spec.rows);
  await mkdir(spec.ttyDir, { recursive: true, mode: 0o700 });
  const name = `tty-${randomBytes(8).toString('hex')}`;
  const launcher = join(spec.ttyDir, `${name}.sh`);
  const pidFile = join(spec.ttyDir, `${name}.pid`);
  const script = [
    `rm -f -- ${quote(launcher)}`,
    `echo $$ > ${quote(pidFile)}`,
    `stty rows ${spec.rows} cols ${spec.cols} 2>/dev/null`,
    `cd -- ${quote(spec.hostCwd)} 2>/dev/null || { echo ${quote(`pocketenv: cannot enter ${spec.sandboxCwd}`)} >&2; exit 126; }`,
    `exec env -i ${Object.entries(spec.env).map(([k, v]) => quote(`${k}=${v}`)).join(' ')} ${LOGIN_SHELL.map(quote).join(' ')}`,
    '',
  ].join('\n');
  await writeFile(launcher, script, { mode: 0o700 });
  const marker = `${MARKER}=${spec.env[MARKER]}`;
  const controls = shellControls({
    pidFile,
    // The pid file is ours (a 0700 dir); the process must also carry this sandbox's marker.
    isOurs: async (pid) => ((await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).split('\0').includes(marker)),
    cleanup: async () => {
      await Promise.all([rm(launcher, { force: true }), rm(pidFile, { force: true })]);
    },
  });
  return { file: '/bin/sh', args: [launcher], ...controls };
}
