/** Helpers shared by the `env`, `secret` and `file` commands: whole listings, and finding one item. */
import { CLIError, ExitCode } from '../errors';

const PAGE = 100;

/** Every page, in order, until `total` is reached (or a page comes back empty). */
export async function collectPages<T>(fetchPage: (limit: number, offset: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const page = await fetchPage(PAGE, all.length);
    all.push(...page.items);
    if (page.items.length === 0 || all.length >= page.total) return all;
  }
}

/** The item whose `key` is `value`, or a not-found CLIError (exit 4). */
export function findBy<T>(items: T[], key: keyof T, value: string, what: string, sandbox: string): T {
  const found = items.find((item) => item[key] === value);
  if (!found) throw new CLIError(`${sandbox} has no ${what} ${value}`, ExitCode.NOT_FOUND, `list them with \`pocketenv ${what === 'variable' ? 'env' : what} ls ${sandbox}\``);
  return found;
}
