/**
 * Runs support/crash-driver.ts as its own process (so it can be SIGKILLed mid-operation) and
 * collects the JSON events it prints. Used by the crash tests of both isolation levels.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const driverScript = join(here, 'crash-driver.ts');
const repoRoot = join(here, '..', '..', '..', '..');

export interface DriverEvent {
  event: string;
  [key: string]: unknown;
}

/** Runs the driver; with `killAfterMs`, SIGKILLs it that long after it printed "go" (or after `killOn`). */
export function runDriver(
  stateDir: string,
  args: string[],
  kill?: { afterMs: number; on?: string },
  env: Record<string, string> = {},
): Promise<{ events: DriverEvent[]; killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', driverScript, stateDir, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: DriverEvent[] = [];
    let buffer = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const event = JSON.parse(line) as DriverEvent;
        events.push(event);
        if (kill && event.event === (kill.on ?? 'go')) {
          setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, kill.afterMs);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!killed && code !== 0) reject(new Error(`driver ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ events, killed, stderr });
    });
  });
}

