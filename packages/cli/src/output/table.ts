import Table from 'cli-table3';
import type { Colors } from './color';

/**
 * A borderless, docker-ps-like table: upper-case headers, columns separated by three spaces,
 * no trailing blanks. Header colour only when colour is on (cli-table3 colours headers red by
 * default, which would leak escape codes into pipes).
 */
export function renderTable(headers: string[], rows: string[][], colors: Colors): string {
  const table = new Table({
    head: headers.map((h) => colors.bold(h.toUpperCase())),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows);
  return `${table.toString().split('\n').map((line) => line.trimEnd()).join('\n')}\n`;
}
