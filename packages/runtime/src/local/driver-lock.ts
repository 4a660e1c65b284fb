/**
 * One driving process per state dir. Reconciliation after a crash kills half-started
 * containers and unmounts leftovers; doing that while another live process is in
 * the middle of starting one would break it. So the state dir records its driver
 * (pid + kernel start time, which survives pid reuse) and a second live process is
 * refused. A dead driver's lock is simply taken over: that is the crash case.
 */
import { readFile } from 'node:fs/promises';
import { processStartTime } from '../shared/proc-stat';
import { HostNotReadyError } from '../provider/errors';
import { writeJsonAtomic } from './store';

interface LockRecord {
  pid: number;
  startTime: string;
}

export async function acquireDriverLock(lockPath: string, stateDir: string): Promise<void> {
  const me: LockRecord = { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
  const text = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (text) {
    let held: LockRecord | undefined;
    try {
      held = JSON.parse(text) as LockRecord;
    } catch {
      held = undefined;
    }
    if (held && held.pid !== me.pid && processStartTime(held.pid) === held.startTime) {
      throw new HostNotReadyError(
        `state dir ${stateDir} is driven by another live process (pid ${held.pid}); one provider process per state dir`,
      );
    }
  }
  await writeJsonAtomic(lockPath, me);
}
