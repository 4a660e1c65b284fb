/**
 * vitest global setup: builds each package's dist when the sources changed (scripts/build.sh), because
 * the CLI and server-process tests run the compiled files, as users do. Fast when nothing changed.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync('bash', [fileURLToPath(new URL('./build.sh', import.meta.url))], { stdio: 'inherit' });
}
