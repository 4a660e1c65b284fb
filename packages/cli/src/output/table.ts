import { stripVTControlCharacters } from 'node:util';
import type { Colors } from './color';

/**
 * A borderless, docker-ps-like table: upper-case headers, columns separated by three spaces,
 * no trailing blanks. Header colour only when colour is on. Widths are what a terminal shows
 * (colour escapes take no room, wide CJK and emoji characters take two columns); a cell with
 * line breaks spans several lines.
 *
 * Written here rather than with a table library: cli-table3's width measurement (string-width
 * and its emoji regex) cost ~8 ms of CPU on every `ls`, a tenth of the CLI's start-up.
 */
export function renderTable(headers: string[], rows: string[][], colors: Colors): string {
  const table = [headers.map((h) => colors.bold(h.toUpperCase())), ...rows];
  const widths = headers.map((_, c) => Math.max(...table.flatMap((row) => (row[c] ?? '').split('\n').map(displayWidth))));
  const lines: string[] = [];
  for (const row of table) {
    const cells = headers.map((_, c) => (row[c] ?? '').split('\n'));
    const height = Math.max(...cells.map((cell) => cell.length));
    for (let i = 0; i < height; i++) {
      lines.push(cells.map((cell, c) => pad(cell[i] ?? '', widths[c]!)).join('   ').trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** Columns `text` takes in a terminal. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of stripVTControlCharacters(text)) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || (code >= 0x300 && code < 0x370) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

/** East Asian wide and fullwidth ranges, and the emoji blocks (what terminals draw two columns wide). */
function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}
