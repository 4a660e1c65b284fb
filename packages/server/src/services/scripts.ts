/**
 * The shell side of services (./sh/*.sh): the supervisor file written into the sandbox, the
 * control commands the server runs through exec, and the parsing of what they print.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDirOf, type FileToWrite } from '@pocketenv/runtime';

const read = (name: string) => readFileSync(join(packageDirOf(import.meta.url), 'src/services/sh', name), 'utf8');
const LIB = read('lib.sh');
const SUPERVISE = read('supervise.sh');
const CONTROL = read('control.sh');

export const SERVICES_DIR = '/run/pocketenv/services';
const SERVICE_ID = /^svc_[0-9A-Za-z]{1,40}$/;

function checkedIds(ids: string[]): string[] {
  for (const id of ids) if (!SERVICE_ID.test(id)) throw new Error(`not a service id: ${JSON.stringify(id)}`);
  return ids;
}

/** The supervisor and the command it runs, for provider.writeFiles. */
export function supervisorFiles(id: string, command: string): FileToWrite[] {
  const dir = `${SERVICES_DIR}/${checkedIds([id])[0]}`;
  return [
    { path: `${dir}/supervise`, content: Buffer.from(`#!/bin/sh\n${LIB}\n${SUPERVISE}`), mode: 0o755 },
    // The command may carry credentials: root-only, like the env of an exec.
    { path: `${dir}/command`, content: Buffer.from(command), mode: 0o600 },
  ];
}

export type ControlOp = 'boot' | 'launch' | 'stop' | 'remove' | 'status';

/** A `sh -c` script running one control command on the given services. */
export function controlScript(op: ControlOp, ids: string[]): string {
  return `${LIB}\n${CONTROL}\n${op} ${checkedIds(ids).join(' ')}\n`;
}

export function logsScript(id: string, lines: number): string {
  if (!Number.isInteger(lines) || lines < 1) throw new Error(`invalid line count ${lines}`);
  return `${LIB}\n${CONTROL}\nlogs ${checkedIds([id])[0]} ${lines}\n`;
}

/** What the supervisor last recorded about one service (from this boot of the sandbox). */
export interface ObservedService {
  /** The supervisor process is alive. */
  supervised: boolean;
  /** RUNNING | CRASHED | STOPPED, or undefined when nothing was recorded in this boot. */
  status?: string;
  restarts?: number;
  lastExitCode?: number;
}

/** Parses the output of `status`: "@<id> <0|1>" lines, each followed by its key=value state. */
export function parseStatus(output: string): Map<string, ObservedService> {
  const services = new Map<string, ObservedService>();
  let current: ObservedService | undefined;
  for (const line of output.split('\n')) {
    const head = /^@(\S+) ([01])$/.exec(line);
    if (head) {
      current = { supervised: head[2] === '1' };
      services.set(head[1]!, current);
      continue;
    }
    const kv = /^([a-z]+)=(.*)$/.exec(line);
    if (!current || !kv) continue;
    const [, key, value] = kv;
    if (key === 'status' && value) current.status = value;
    if (key === 'restarts' && /^\d+$/.test(value!)) current.restarts = Number(value);
    if (key === 'exit' && /^\d+$/.test(value!)) current.lastExitCode = Number(value);
  }
  return services;
}
