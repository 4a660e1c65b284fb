/**
 * The one reader of `/proc/<pid>/stat` (Linux). Every caller that asks "is this still the
 * process I started?" or "which session / group is it in?" goes through here, so the
 * parsing rule lives in one place: the command name in field 2 is in parentheses and may
 * itself contain spaces and parentheses, so the fields are counted after the LAST `)`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T (stopped), t (traced), X (dead)… */
  state: string;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Session id. */
  sid: number;
  /** Field 22: start time in clock ticks since boot. With the pid it names one process for good (pids are reused, start times are not). */
  startTime: string;
}

/** Parses the text of a `/proc/<pid>/stat` file; undefined when it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the parenthesised command: state ppid pgrp session tty_nr tpgid flags … starttime (the 20th).
  const rest = text.slice(close + 2).split(' ');
  if (!Number.isInteger(pid) || rest.length < 20) return undefined;
  return { pid, state: rest[0]!, ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3]), startTime: rest[19]! };
}

/** The stat of a live (or zombie) process; undefined when there is no such process (or no /proc). */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

/** {@link readProcStat}, synchronously (for checks on hot paths that must not yield). */
export function readProcStatSync(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

/** The kernel start time of `pid`, or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  return readProcStatSync(pid)?.startTime;
}

/** Whether `known` is still that very process and not a zombie waiting to be reaped. */
export function isSameLiveProcess(known: { pid: number; startTime: string }): boolean {
  const stat = readProcStatSync(known.pid);
  return stat !== undefined && stat.startTime === known.startTime && stat.state !== 'Z' && stat.state !== 'X';
}
