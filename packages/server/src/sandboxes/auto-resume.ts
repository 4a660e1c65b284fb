/**
 * Auto-resume: a paused sandbox is resumed by whatever enters it (exec, streaming exec,
 * terminal, file reads and writes — and so copy, backups, services and attachments, which go
 * through these), so a caller only notices a slightly slower first answer. Lifecycle calls
 * (start, stop, pause, resume, delete, observe) pass straight through.
 */
import type { Provider } from '@pocketenv/runtime';

export function autoResuming(provider: Provider, id: string, awake: (id: string) => Promise<void>): Provider {
  const ready = async <T>(entered: string, run: () => Promise<T>): Promise<T> => {
    // Only this sandbox's own use resumes it; an id from elsewhere is the provider's business.
    if (entered === id) await awake(id);
    return run();
  };
  return {
    name: provider.name,
    capabilities: provider.capabilities,
    probe: () => provider.probe(),
    listBases: () => provider.listBases(),
    prepareBase: (base, onProgress) => provider.prepareBase(base, onProgress),
    create: (spec) => provider.create(spec),
    fork: (sourceId, spec) => provider.fork(sourceId, spec),
    start: (sid, spec) => provider.start(sid, spec),
    stop: (sid) => provider.stop(sid),
    pause: (sid) => provider.pause(sid),
    resume: (sid) => provider.resume(sid),
    delete: (sid) => provider.delete(sid),
    list: () => provider.list(),
    observe: (sid) => provider.observe(sid),
    exec: (sid, command, opts) => ready(sid, () => provider.exec(sid, command, opts)),
    execStream: (sid, command, handlers, opts) => ready(sid, () => provider.execStream(sid, command, handlers, opts)),
    terminalCommand: (sid, opts) => ready(sid, () => provider.terminalCommand(sid, opts)),
    writeFiles: (sid, files) => ready(sid, () => provider.writeFiles(sid, files)),
    readFile: (sid, path) => ready(sid, () => provider.readFile(sid, path)),
  };
}
