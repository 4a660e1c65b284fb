/**
 * Running one command in a container through the Engine's exec API: create, start with a
 * hijacked connection (stdin in, multiplexed stdout/stderr out, split by the engine's 8-byte
 * frame headers), exit code from exec inspect.
 *
 * Killing "the whole process tree": the engine has no API to kill an exec. Every exec carries
 * a unique `POCKETENV_EXEC=<tag>` in its environment, which every process it starts inherits
 * (also ones that leave its session, such as `nohup … &` or `setsid`); a kill runs a second exec,
 * one perl process (no forks, so it works even at the pids limit), that SIGKILLs every process
 * of the container carrying the tag until none is left; at the pids limit, where not even that
 * one process can start, a local engine's container is swept from the host instead. Only a
 * process that clears its own environment escapes (as a daemon escapes the local provider's
 * session sweep).
 *
 * Exit: the engine keeps the output stream open while a background process holds the command's
 * pipes (about 2 s after the exit, in Docker 20.10), so the exit is also watched through exec
 * inspect, and output still buffered is drained for a short grace, as with the local provider.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PassThrough, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { ProviderError, SandboxMissingError, SandboxNotRunningError } from '../provider/errors';
import type { ExecProcess, ExecResult, ExecStreamHandlers } from '../provider/types';
import { BoundedBuffer, DEFAULT_MAX_OUTPUT_BYTES, FLOOD_NOTE, MAX_DROPPED_OUTPUT_BYTES } from '../shared/bounded-buffer';
import { armTimeout } from '../shared/exec-timeout';

/** The environment variable that marks an exec's processes. */
export const EXEC_TAG_VAR = 'POCKETENV_EXEC';
/** After the command exits, how long background processes may keep its output open. */
const DRAIN_GRACE_MS = 300;
/** Exec inspect polling while the command runs: fast at first (short commands), then calmer. */
const POLL_MS = [20, 50, 100, 200, 400];

/** Kills every process whose environment holds `POCKETENV_EXEC=<$ARGV[0]>`, until none is left. */
const KILL_TREE_SCRIPT = `
my $tag = "${EXEC_TAG_VAR}=" . shift;
for my $round (1 .. 100) {
  my $found = 0;
  for my $dir (glob "/proc/[0-9]*") {
    my ($pid) = $dir =~ m{(\\d+)$};
    next if $pid == $$;
    open(my $fh, "<", "$dir/environ") or next;
    local $/ = "\\0";
    while (my $var = <$fh>) {
      chomp $var;
      if ($var eq $tag) { $found++ if kill 9, $pid; last }
    }
  }
  exit 0 unless $found;
  select undef, undef, undef, 0.02;
}
`;

export interface ExecSpec {
  args: string[];
  /** The full environment (`KEY=value`), without the tag. */
  env: string[];
  cwd: string;
  tty?: boolean;
  /** The engine is on this host: a kill may sweep from the host when the container cannot fork. */
  hostSweep?: boolean;
}

/** Maps the engine's answers about the container to the contract's errors. */
export function containerError(err: unknown, id: string): Error {
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 404) return new SandboxMissingError(id);
  if (status === 409) return new SandboxNotRunningError(id);
  const message = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  return new ProviderError(`Docker Engine: ${message}`);
}

export interface StartedExec {
  exec: Dockerode.Exec;
  tag: string;
  stream: Duplex;
  stdout: PassThrough;
  stderr: PassThrough;
  /** Resolves with the exit code once the process has exited and its output is drained. */
  exited: Promise<{ exitCode: number }>;
  killTree(): Promise<void>;
}

/** Creates the exec (not started); the engine's 404/409 become SandboxMissing/NotRunning. */
export async function createExec(container: Dockerode.Container, id: string, spec: ExecSpec, tag = newTag()): Promise<{ exec: Dockerode.Exec; tag: string }> {
  try {
    const exec = await container.exec({
      Cmd: spec.args,
      Env: [...spec.env, `${EXEC_TAG_VAR}=${tag}`],
      WorkingDir: spec.cwd,
      User: '0:0',
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: spec.tty === true,
    });
    return { exec, tag };
  } catch (err) {
    throw containerError(err, id);
  }
}

export function newTag(): string {
  return randomBytes(9).toString('hex');
}

/**
 * Kills every process of `container` tagged `tag`: the perl sweeper inside. When that cannot run
 * (the container is at its pids limit, so not even one more process starts) and the engine is
 * on this host, the same sweep from the host: the engine lists the container's host pids, and
 * their environments are read from the host's /proc.
 */
export async function killTagged(container: Dockerode.Container, tag: string, hostSweep = false): Promise<void> {
  let swept = false;
  try {
    const killer = await container.exec({ Cmd: ['/usr/bin/perl', '-e', KILL_TREE_SCRIPT, tag], User: '0:0', AttachStdout: true, AttachStderr: true });
    const stream = await killer.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    swept = (await killer.inspect()).ExitCode === 0;
  } catch {
    /* the container stopped or vanished (its processes are gone too), or cannot fork */
  }
  if (!swept && hostSweep) await sweepFromHost(container, tag);
}

async function sweepFromHost(container: Dockerode.Container, tag: string): Promise<void> {
  const wanted = `${EXEC_TAG_VAR}=${tag}`;
  for (let round = 0; round < 50; round++) {
    const top = (await container.top({ ps_args: '-eo pid' }).catch(() => undefined)) as { Processes?: string[][] } | undefined;
    let found = 0;
    for (const [pid] of top?.Processes ?? []) {
      const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
      if (!environ?.toString('utf8').split('\0').includes(wanted)) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
        found++;
      } catch {
        /* exited meanwhile */
      }
    }
    if (found === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exitCodeOf(exec: Dockerode.Exec): Promise<number | undefined> {
  const info = await exec.inspect();
  return info.Running ? undefined : (info.ExitCode ?? 255);
}

export async function startExec(container: Dockerode.Container, id: string, spec: ExecSpec): Promise<StartedExec> {
  const hostSweep = spec.hostSweep === true;
  const { exec, tag } = await createExec(container, id, spec);
  let stream: Duplex;
  try {
    stream = await exec.start({ hijack: true, stdin: true });
  } catch (err) {
    throw containerError(err, id);
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const modem = (container as unknown as { modem: { demuxStream(s: Duplex, o: PassThrough, e: PassThrough): void } }).modem;
  modem.demuxStream(stream, stdout, stderr);
  stream.on('error', () => undefined); // a reset connection ends the exec like an end does

  const streamEnded = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
  let done = false;
  const exited = (async () => {
    // Whichever comes first: the stream ends (normal case), or inspect reports the exit.
    let exitCode: number | undefined;
    for (let i = 0; exitCode === undefined; i++) {
      const wait = new Promise<'tick'>((r) => setTimeout(() => r('tick'), POLL_MS[Math.min(i, POLL_MS.length - 1)]));
      const first = await Promise.race([streamEnded.then(() => 'ended' as const), wait]);
      exitCode = await exitCodeOf(exec).catch(() => (first === 'ended' ? 255 : undefined));
      if (first === 'ended' && exitCode === undefined) {
        // The stream closed but the engine still reports it running for a moment.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // Give the output buffered in the engine a moment, then stop waiting for background holders.
    await Promise.race([streamEnded, new Promise((r) => setTimeout(r, DRAIN_GRACE_MS))]);
    done = true;
    stream.destroy();
    stdout.end();
    stderr.end();
    return { exitCode };
  })();

  const killTree = async () => {
    if (done) return;
    await killTagged(container, tag, hostSweep);
  };
  return { exec, tag, stream, stdout, stderr, exited, killTree };
}

export async function runExec(
  container: Dockerode.Container,
  id: string,
  spec: ExecSpec,
  opts: { stdin?: Uint8Array | string; maxOutputBytes?: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecResult> {
  const limit = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new BoundedBuffer(limit);
  const stderr = new BoundedBuffer(limit);
  const run = await startExec(container, id, spec);
  let timedOut = false;
  const disarm = armTimeout(opts.timeoutMs, opts.signal, run, () => (timedOut = true));
  let flooded = false;
  const collect = (into: BoundedBuffer) => (c: Buffer) => {
    into.push(c);
    if (!flooded && stdout.dropped + stderr.dropped > MAX_DROPPED_OUTPUT_BYTES) {
      flooded = true; // an endless writer would keep the server reading and dropping until the deadline
      void run.killTree();
    }
  };
  run.stdout.on('data', collect(stdout));
  run.stderr.on('data', collect(stderr));
  // Closing our half of the connection is the command's EOF on stdin.
  run.stream.end(opts.stdin === undefined ? undefined : Buffer.from(opts.stdin));
  const { exitCode } = await run.exited;
  disarm(); // what it left running in the background is not ours to kill
  const err = flooded ? Buffer.concat([stderr.toBuffer(), Buffer.from(`${FLOOD_NOTE}\n`)]) : stderr.toBuffer();
  return { stdout: stdout.toBuffer(), stderr: err, exitCode, truncated: stdout.truncated || stderr.truncated, timedOut };
}

export async function streamExec(
  container: Dockerode.Container,
  id: string,
  spec: ExecSpec,
  handlers: ExecStreamHandlers,
  opts: { timeoutMs?: number; signal?: AbortSignal },
): Promise<ExecProcess> {
  const run = await startExec(container, id, spec);
  let timedOut = false;
  const disarm = armTimeout(opts.timeoutMs, opts.signal, run, () => (timedOut = true));
  run.stdout.on('data', (c: Buffer) => handlers.onStdout?.(c));
  run.stderr.on('data', (c: Buffer) => handlers.onStderr?.(c));
  const done = run.exited.then(({ exitCode }) => {
    disarm();
    return { exitCode, timedOut };
  });
  return {
    writeStdin(data) {
      if (run.stream.writableEnded || run.stream.destroyed) return Promise.resolve();
      // Resolves once the socket took the bytes, so a sender waits for a command that reads slowly.
      return new Promise<void>((resolve) => {
        if (run.stream.write(Buffer.from(data))) resolve();
        else {
          const done = () => {
            run.stream.off('drain', done);
            run.stream.off('close', done);
            resolve();
          };
          run.stream.once('drain', done);
          run.stream.once('close', done);
        }
      });
    },
    closeStdin() {
      if (!run.stream.writableEnded && !run.stream.destroyed) run.stream.end();
    },
    kill() {
      run.stream.resume(); // a paused stream would hold the exit back
      void run.killTree();
    },
    // Not reading the hijacked socket makes the engine's buffer fill, then the command block.
    pause() {
      run.stream.pause();
    },
    resume() {
      run.stream.resume();
    },
    wait: () => done,
  };
}
