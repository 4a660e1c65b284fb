/**
 * The machine's shared tools dir (code-server…, see ./code-server.ts), bind-mounted read-only
 * into EVERY local sandbox at boot, like the init and the CA bundle. Mounting it always (built
 * or not, used or not) costs nothing, keeps warm-pool sandboxes interchangeable, and means a
 * tool built later shows up in sandboxes that are already running: no restart, no per-sandbox copy.
 * The files are host root's, so inside they belong to `nobody` and nothing can change them.
 */
import type { OciMount } from '../oci-config';
import { ensureToolsDir, TOOLS_MOUNT } from './code-server';

export async function toolsMount(toolsDir: string): Promise<OciMount> {
  await ensureToolsDir(toolsDir);
  return { destination: TOOLS_MOUNT, type: 'bind', source: toolsDir, options: ['bind', 'ro', 'nosuid', 'nodev'] };
}
