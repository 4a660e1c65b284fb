/**
 * The MTU sandboxes should use: that of the host's default-route interface.
 * Some hosts (this machine kind: 1400) are below the veth default of 1500, and a
 * sandbox advertising a bigger MSS than the path carries stalls on large
 * responses wherever path-MTU discovery is filtered.
 */
import { readFile } from 'node:fs/promises';
import { runCommand } from '../command';
import { tool } from './tools';

const DEFAULT_MTU = 1500;

export async function uplinkMtu(): Promise<number> {
  const result = await runCommand(tool('ip'), ['-4', '-j', 'route', 'show', 'default']);
  if (result.code !== 0) return DEFAULT_MTU;
  let routes: Array<{ dev?: string }>;
  try {
    routes = JSON.parse(result.stdout || '[]') as Array<{ dev?: string }>;
  } catch {
    return DEFAULT_MTU;
  }
  const dev = routes.find((r) => typeof r.dev === 'string')?.dev;
  if (!dev || dev.includes('/')) return DEFAULT_MTU;
  const mtu = Number((await readFile(`/sys/class/net/${dev}/mtu`, 'utf8').catch(() => '')).trim());
  return Number.isInteger(mtu) && mtu >= 576 ? mtu : DEFAULT_MTU;
}
