/**
 * Killing one exec's process tree from the host, without a per-exec cgroup.
 *
 * Every command is started in a new session (by the runtime's exec, or by the exec agent's
 * setsid), and every process the command starts inherits that session unless it deliberately
 * leaves it. A kill therefore sweeps the sandbox's cgroup for every process in the command's
 * session or process group. Only a process that calls setsid() itself (a daemon) escapes, as
 * under Docker. The host reads /proc, whose session and group ids are host pids, so what a
 * sandbox claims about its processes is only used to pick which of its OWN processes to kill.
 */
import { readFile } from 'node:fs/promises';
import { readProcStat } from '../shared/proc-stat';

/** The ids that say where a process belongs (the one /proc/<pid>/stat reader: ../shared/proc-stat). */
async function procIds(pid: number): Promise<{ ppid: number; pgid: number; sid: number } | undefined> {
  return readProcStat(pid);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILLs every sandbox process `belongs` picks (and the `leader`'s group), until none is left. */
async function killMatching(pids: () => Promise<number[]>, belongs: (pid: number) => Promise<boolean>, leader?: number): Promise<void> {
  for (let round = 0; round < 50; round++) {
    let found = 0;
    if (leader) {
      try {
        process.kill(-leader, 'SIGKILL');
        found++;
      } catch {
        /* the runtime's exec process is gone */
      }
    }
    for (const pid of await pids()) {
      if (!(await belongs(pid))) continue;
      found++;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
    }
    if (found === 0) return;
    await sleep(10);
  }
}

/**
 * Kills one runtime exec's process tree. `leader` is the runtime's exec process on the host;
 * the runtime runs the command in a NEW session (setsid in its intermediate child), so the
 * session to kill is found from the command's main process: the leader's child inside the
 * sandbox, or the pid the runtime wrote to `pidFile`.
 */
export async function killSessionTree(leader: number, pids: () => Promise<number[]>, pidFile?: string): Promise<void> {
  const sessions = new Set<number>();
  const main = pidFile ? Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) : 0;
  for (const pid of await pids()) {
    const ids = await procIds(pid);
    if (ids && (ids.ppid === leader || pid === main)) sessions.add(ids.sid);
  }
  const inSessions = async (pid: number) => {
    const ids = await procIds(pid);
    return !!ids && (sessions.has(ids.sid) || sessions.has(ids.pgid));
  };
  await killMatching(pids, inSessions, leader);
}

/** A field of /proc/<pid>/status listing an id per pid namespace (NSsid, NSpgid): the sandbox's. */
function idInSandbox(status: string, field: 'NSsid' | 'NSpgid'): number | undefined {
  // The first id is in our (the host's) namespace, the second in the sandbox's.
  const ids = new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(status)?.[1]?.split(/\s+/);
  return ids && ids.length > 1 ? Number(ids[1]) : undefined;
}

/**
 * Kills, from the host, the session (or process group) that is `innerPid` inside the sandbox:
 * the pid the exec agent reported for a command, for when the agent does not kill it itself.
 * The kernel's NSsid/NSpgid find it even after its leader exited. Only processes in the
 * sandbox's own cgroup are looked at, so a lying agent can at worst point at its own sandbox.
 */
export async function killSandboxSession(innerPid: number, pids: () => Promise<number[]>): Promise<void> {
  if (innerPid <= 1) return; // the sandbox's init: never a command's session
  const inSession = async (pid: number) => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    return idInSandbox(status, 'NSsid') === innerPid || idInSandbox(status, 'NSpgid') === innerPid;
  };
  await killMatching(pids, inSession);
}
