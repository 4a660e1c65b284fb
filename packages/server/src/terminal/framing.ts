/**
 * How each terminal protocol (./routes.ts) puts a terminal into WebSocket frames. Only the
 * server → client side differs between them; input is read the same way by all (parseResize:
 * a text frame holding exactly a resize object resizes, every other frame is keystrokes).
 *
 *   binary      output as binary frames, unchanged (ours: the SDK, `pocketenv console`).
 *   text        output as UTF-8 text frames (the hosted /pty and /tty services). A text frame
 *               must be valid UTF-8, so a sequence split across reads is held back until it is
 *               complete, and bytes that are not UTF-8 arrive as U+FFFD: lossy for binary output.
 *   base64      output as text frames holding the base64 of the bytes (the hosted /ssh service).
 *   cloudflare  output as binary frames, plus JSON text control frames: {"type":"ready"} once the
 *               shell is attached, {"type":"exit","code":N} when it ends, {"type":"error","message"}
 *               before the server closes the socket for any other reason.
 */
import { StringDecoder } from 'node:string_decoder';
import type { WebSocket } from 'ws';

export type FramingName = 'binary' | 'text' | 'base64' | 'cloudflare';

export interface Frame {
  data: Buffer | string;
  binary: boolean;
}

/** One terminal's framing (it may hold state, e.g. a partial UTF-8 sequence). */
export interface TerminalFraming {
  /** One chunk of the terminal's output as a frame; undefined when there is nothing to send yet. */
  output(data: Buffer): Frame | undefined;
  /** Output held back so far, sent when the shell ends. */
  flush?(): Frame | undefined;
  /** Sent once the shell is attached, before any output. */
  ready?(): Frame;
  /** Sent before the close when the shell exits with `code`. */
  exit?(code: number): Frame;
  /** Sent before the server closes the socket for any other reason (refusal, shutdown). */
  error?(message: string): Frame;
}

const control = (message: object): Frame => ({ data: JSON.stringify(message), binary: false });

export function createFraming(name: FramingName): TerminalFraming {
  switch (name) {
    case 'binary':
      return { output: (data) => ({ data, binary: true }) };
    case 'text': {
      const decoder = new StringDecoder('utf8');
      const text = (data: string): Frame | undefined => (data === '' ? undefined : { data, binary: false });
      return { output: (data) => text(decoder.write(data)), flush: () => text(decoder.end()) };
    }
    case 'base64':
      return { output: (data) => ({ data: data.toString('base64'), binary: false }) };
    case 'cloudflare':
      return {
        output: (data) => ({ data, binary: true }),
        ready: () => control({ type: 'ready' }),
        exit: (code) => control({ type: 'exit', code }),
        error: (message) => control({ type: 'error', message }),
      };
  }
}

/** Sends a frame (a control message, say) while the socket is open; frames go out in order, before a close. */
export function sendFrame(ws: WebSocket, frame: Frame | undefined, done?: () => void): void {
  if (frame && ws.readyState === ws.OPEN) ws.send(frame.data, { binary: frame.binary }, done);
}
