/**
 * The exec agent's wire format (the other side is exec-agent.pl) and a strict reader for what
 * the agent sends.
 *
 * The agent runs inside the sandbox, where the sandbox's own code can kill it and put anything
 * in its place. Every frame from it is therefore untrusted input: sizes are bounded (the real
 * agent never sends more than one 64 KiB pipe read per frame), numbers must be exactly what the
 * agent prints, and frames must come in the agent's order (P first, output, then X). Anything
 * else is an AgentProtocolError, which fails the exec instead of guessing.
 */
import { ProviderError } from '../../provider/errors';
import type { OciProcess } from '../oci-config';

/** The largest payload either side sends in one frame (the agent reads its pipes 64 KiB at a time). */
export const MAX_FRAME_PAYLOAD = 64 * 1024;
const HEADER = 5;
/** Linux's PID_MAX_LIMIT: no pid inside a sandbox is larger. */
const PID_MAX = 4_194_304;
/** Exit codes as the agent prints them: 0..255, decimal, no sign, no leading zero. */
const EXIT_CODE = /^(?:0|[1-9][0-9]{0,2})$/;
const PID = /^[1-9][0-9]{0,6}$/;
/** The agent's reason for not starting a command (N) is a short line. */
const MAX_REASON = 1024;

export type AgentFrame =
  | { type: 'started'; pid: number }
  | { type: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'exit'; exitCode: number }
  | { type: 'notStarted'; reason: string };

/** The agent sent something the protocol does not allow. */
export class AgentProtocolError extends ProviderError {
  override name = 'AgentProtocolError';
}

export function encodeFrame(type: 'R' | 'I' | 'E' | 'K', payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(HEADER);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** The R frame's payload: cwd, argc, argv…, env… as length-prefixed strings. */
export function requestPayload(process_: OciProcess): Buffer {
  const values = [process_.cwd, String(process_.args.length), ...process_.args, ...process_.env];
  return Buffer.concat(
    values.flatMap((v) => {
      const b = Buffer.from(v, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return [len, b];
    }),
  );
}

/**
 * Splits the agent's byte stream into frames and checks each one. `push` yields the frames in
 * order and throws AgentProtocolError at the first thing that is not the agent's protocol (the
 * frames before it were yielded); after that, and after the exit frame, it yields nothing more.
 */
export class AgentFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private phase: 'start' | 'output' | 'done' = 'start';

  *push(chunk: Buffer): Generator<AgentFrame> {
    if (this.phase === 'done') return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= HEADER && !this.isDone()) {
      const len = this.buf.readUInt32BE(1);
      if (len > MAX_FRAME_PAYLOAD) {
        this.phase = 'done';
        throw new AgentProtocolError(`a frame of ${len} bytes (the agent sends at most ${MAX_FRAME_PAYLOAD})`);
      }
      if (this.buf.length < HEADER + len) break;
      const type = String.fromCharCode(this.buf[0]!);
      const payload = this.buf.subarray(HEADER, HEADER + len);
      this.buf = this.buf.subarray(HEADER + len);
      yield this.frame(type, payload);
    }
  }

  /** A method, so the loop re-reads the phase that `frame` changes. */
  private isDone(): boolean {
    return this.phase === 'done';
  }

  private frame(type: string, payload: Buffer): AgentFrame {
    const fail = (what: string): never => {
      this.phase = 'done';
      throw new AgentProtocolError(what);
    };
    if (this.phase === 'start') {
      if (type === 'P') {
        const text = payload.toString('latin1');
        const pid = PID.test(text) ? Number(text) : NaN;
        // Pid 1 is the sandbox's init: never a command the agent started.
        if (!(pid > 1 && pid <= PID_MAX)) fail(`an invalid command pid ${JSON.stringify(text.slice(0, 32))}`);
        this.phase = 'output';
        return { type: 'started', pid };
      }
      if (type === 'N') {
        this.phase = 'done';
        return { type: 'notStarted', reason: payload.subarray(0, MAX_REASON).toString('utf8').replace(/[\0-\x1f\x7f]+/g, ' ').trim() };
      }
      return fail(`a ${JSON.stringify(type)} frame before the command's pid`);
    }
    if (type === 'O') return { type: 'stdout', data: payload };
    if (type === 'F') return { type: 'stderr', data: payload };
    if (type === 'X') {
      const text = payload.toString('latin1');
      const code = EXIT_CODE.test(text) ? Number(text) : NaN;
      if (!(code >= 0 && code <= 255)) fail(`an invalid exit code ${JSON.stringify(text.slice(0, 32))}`);
      this.phase = 'done';
      return { type: 'exit', exitCode: code };
    }
    return fail(`an unknown ${JSON.stringify(type)} frame`);
  }
}
