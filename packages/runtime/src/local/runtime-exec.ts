/**
 * Starting a command through the OCI runtime's own exec (`crun exec`): the fallback when the
 * sandbox's exec agent is not there, and the only path once the agent misbehaved. The runtime
 * runs on the host, so its exit and its pipes do not depend on anything inside the sandbox.
 * Its process is spawned `detached` so that it, too, can be killed as a group without touching
 * the caller's own process group.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signalNumber } from './command';
import type { ExecTarget } from './exec';
import type { OciProcess } from './oci-config';
import { killSessionTree } from './process-tree';
import { KILLED_EXIT_CODE, type RunningExec } from './running-exec';

export async function launchRuntimeExec(target: ExecTarget, process_: OciProcess): Promise<RunningExec> {
  await mkdir(target.execDir, { recursive: true, mode: 0o700 });
  const name = randomBytes(8).toString('hex');
  const processFile = join(target.execDir, `${name}.json`);
  const pidFile = join(target.execDir, `${name}.pid`);
  // The env may hold secrets: the file is root-only and removed once the exec ends.
  await writeFile(processFile, JSON.stringify(process_), { mode: 0o600 });
  const { file, args } = target.argv(processFile, pidFile);
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const leader = child.pid;
  child.stdin!.on('error', () => undefined); // EPIPE when the command does not read its stdin
  let settle!: (r: { exitCode: number }) => void;
  const exited = new Promise<{ exitCode: number }>((resolve) => (settle = resolve));
  child.on('error', (err) => {
    // The runtime binary itself could not be started (exit code as a shell would report it).
    if (child.stderr && !child.stderr.destroyed) child.stderr.emit('data', Buffer.from(`pocketenv: could not run ${file}: ${err.message}\n`));
    settle({ exitCode: 127 });
  });
  child.on('exit', (code, signal) => settle({ exitCode: code ?? 128 + signalNumber(signal) }));
  void exited.then(() => Promise.all([rm(processFile, { force: true }), rm(pidFile, { force: true })]));

  return {
    stdout: child.stdout!,
    stderr: child.stderr!,
    stdin: child.stdin!,
    exited,
    killTree: () => (leader ? killSessionTree(leader, target.pids, pidFile) : Promise.resolve()),
    abandon: () => {
      if (leader) {
        try {
          process.kill(-leader, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      child.stdout!.destroy();
      child.stderr!.destroy();
      settle({ exitCode: KILLED_EXIT_CODE });
    },
  };
}
