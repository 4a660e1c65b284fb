/**
 * A driver process for local.crash.test.ts: drives a LocalProvider on a state dir
 * and reports progress on stdout, one JSON line per event, so the test can kill -9
 * it in the middle of an operation and then inspect with a fresh driver.
 *
 *   node --import tsx crash-driver.ts <stateDir> <op> [id]
 *
 * ops: create-start <id> | start <id> | stop <id> | exec <id> | delete <id>   (the operation to interrupt)
 *      inspect            (list, then prove every running sandbox answers exec)
 *      delete-all
 * Every op first initialises the provider (which reconciles) and then prints
 * {"event":"go"}: the test's kill timer starts there.
 */
import { LocalProvider } from '../../src/local/index';

const [stateDir, op, id] = process.argv.slice(2);
if (!stateDir || !op) throw new Error('usage: crash-driver.ts <stateDir> <op> [id]');

const emit = (event: string, extra: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ event, ...extra }) + '\n');
const provider = new LocalProvider({ stateDir });
await provider.list(); // take over the state dir and reconcile before the kill window
const spec = (sandboxId: string) => ({
  id: sandboxId,
  hostname: `box-${sandboxId}`,
  base: 'debian',
  resources: { vcpus: 1, memoryGiB: 0.5, diskGiB: 1, pids: 128 },
  // CRASH_DRIVER_ISOLATION=gvisor: the same crash tests at the gvisor level.
  ...(process.env.CRASH_DRIVER_ISOLATION === 'gvisor' ? { isolation: 'gvisor' as const } : {}),
});

emit('go');
switch (op) {
  case 'create-start':
    await provider.create(spec(id!));
    emit('created');
    await provider.start(id!, { files: [{ path: '/workspace/started.txt', content: Buffer.from('yes') }] });
    emit('started');
    break;
  case 'start':
    await provider.start(id!);
    emit('started');
    break;
  case 'exec': {
    const proc = await provider.execStream(id!, 'echo begin; sleep 3900; echo never', {
      onStdout: (c) => emit('stdout', { text: c.toString() }),
    });
    emit('exec-started');
    await proc.wait();
    break;
  }
  case 'stop':
    await provider.stop(id!);
    emit('stopped');
    break;
  case 'delete':
    await provider.delete(id!);
    emit('deleted');
    break;
  case 'inspect': {
    const list = await provider.list();
    const answers: Record<string, string> = {};
    for (const s of list.filter((x) => x.state === 'running')) {
      answers[s.id] = (await provider.exec(s.id, "echo ok; ps -eo args= | grep -c '^sleep 3900$' || true")).stdout.toString();
    }
    emit('inspected', { list, answers });
    break;
  }
  case 'delete-all':
    for (const s of await provider.list()) await provider.delete(s.id);
    emit('deleted-all', { left: await provider.list() });
    break;
  default:
    throw new Error(`unknown op ${op}`);
}
emit('done');
