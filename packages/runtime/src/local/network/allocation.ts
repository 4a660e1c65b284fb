/**
 * Host-wide allocation of /30 blocks, shared by every process on the machine
 * (several servers and test workers with different state dirs run at once).
 *
 * Layout under `dir` (normally /run/pocketenv/net, a tmpfs: a reboot frees
 * everything, which is right because every interface is gone too):
 *   <dir>/<index>      the claim: a file holding the owner id. It is the truth.
 *   <dir>/by-id/<id>   the owner's block index: a fast lookup, verified against the claim.
 *   <dir>/tmp/         files being prepared.
 *
 * A claim is made by writing the id to a temp file and hard-linking it to
 * `<dir>/<index>`: link(2) fails with EEXIST if the name exists, so exactly one
 * process wins an index, and a claim is never seen half-written. Claims are
 * plain files, so they outlive a driver that is kill -9'd; the next driver's
 * `release(id)` frees them.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProviderError } from '../../provider/errors';
import { blockOf, parseNetwork, type Block, type Network } from './subnets';

/** Ids become file names: no separators, no dot-names. */
const OWNER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const INDEX_PATTERN = /^(0|[1-9][0-9]*)$/;

export interface AddressPoolOptions {
  dir: string;
  /** CIDR the /30 blocks are carved from, e.g. 10.201.0.0/16. */
  network: string;
}

export class AddressPool {
  readonly dir: string;
  private readonly network: Network;
  private readonly byIdDir: string;
  private readonly tmpDir: string;

  constructor(opts: AddressPoolOptions) {
    this.dir = opts.dir;
    this.network = parseNetwork(opts.network);
    this.byIdDir = join(opts.dir, 'by-id');
    this.tmpDir = join(opts.dir, 'tmp');
  }

  /** The owner's block, claiming the lowest free one if it has none. Idempotent. */
  async allocate(owner: string): Promise<{ block: Block; fresh: boolean }> {
    assertOwner(owner);
    const existing = await this.viaIndexFile(owner);
    if (existing) return { block: existing, fresh: false };

    await mkdir(this.byIdDir, { recursive: true, mode: 0o755 });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o755 });
    const claimFile = await this.tempFile(owner);
    const pointerFile = join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const index = await this.claimFreeIndex(claimFile);
      await writeFile(pointerFile, String(index));
      try {
        await link(pointerFile, join(this.byIdDir, owner));
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
        // Someone allocated for the same owner at the same moment: keep theirs.
        await unlinkIfOwned(join(this.dir, String(index)), owner);
        const theirs = await this.viaIndexFile(owner);
        if (theirs) return { block: theirs, fresh: false };
        // Their pointer is stale (not backed by a claim): replace it with ours.
        await unlink(join(this.byIdDir, owner)).catch(ignoreMissing);
        return this.allocate(owner);
      }
      return { block: blockOf(this.network, index), fresh: true };
    } finally {
      await unlink(claimFile).catch(ignoreMissing);
      await unlink(pointerFile).catch(ignoreMissing);
    }
  }

  /** The owner's block, if it holds one (also finds a claim whose by-id pointer was never written). */
  async lookup(owner: string): Promise<Block | undefined> {
    assertOwner(owner);
    const fast = await this.viaIndexFile(owner);
    if (fast) return fast;
    for (const [index, holder] of await this.claims()) {
      if (holder === owner) return blockOf(this.network, index);
    }
    return undefined;
  }

  /** Frees every block the owner holds. Idempotent. */
  async release(owner: string): Promise<void> {
    assertOwner(owner);
    // Pointer first: a crash after this line leaves a claim that the scan below still finds next time.
    await unlink(join(this.byIdDir, owner)).catch(ignoreMissing);
    for (const [index, holder] of await this.claims()) {
      if (holder === owner) await unlinkIfOwned(join(this.dir, String(index)), owner);
    }
  }

  /** Every owner holding a block, sorted. */
  async owners(): Promise<string[]> {
    const owners = new Set<string>();
    for (const [, holder] of await this.claims()) owners.add(holder);
    return [...owners].sort();
  }

  private async viaIndexFile(owner: string): Promise<Block | undefined> {
    const pointer = await readFile(join(this.byIdDir, owner), 'utf8').catch(ignoreMissing);
    if (pointer === undefined || !INDEX_PATTERN.test(pointer)) return undefined;
    const index = Number(pointer);
    if (index >= this.network.blocks) return undefined;
    const holder = await readFile(join(this.dir, pointer), 'utf8').catch(ignoreMissing);
    return holder === owner ? blockOf(this.network, index) : undefined;
  }

  private async claimFreeIndex(claimFile: string): Promise<number> {
    const taken = new Set((await this.claimNames()).map(Number));
    for (let index = 0; index < this.network.blocks; index++) {
      if (taken.has(index)) continue;
      try {
        await link(claimFile, join(this.dir, String(index)));
        return index;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err; // another process won this one; try the next
      }
    }
    throw new ProviderError(`no free sandbox address: all ${this.network.blocks} blocks in ${this.dir} are claimed`);
  }

  private async claims(): Promise<Array<[number, string]>> {
    const out: Array<[number, string]> = [];
    for (const name of await this.claimNames()) {
      const holder = await readFile(join(this.dir, name), 'utf8').catch(ignoreMissing);
      if (holder !== undefined) out.push([Number(name), holder]);
    }
    return out;
  }

  private async claimNames(): Promise<string[]> {
    const names = await readdir(this.dir).catch(ignoreMissing);
    return (names ?? []).filter((n) => INDEX_PATTERN.test(n));
  }

  private async tempFile(content: string): Promise<string> {
    const path = join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(path, content, { flag: 'wx', mode: 0o644 });
    return path;
  }
}

function assertOwner(owner: string): void {
  if (!OWNER_PATTERN.test(owner)) throw new ProviderError(`invalid sandbox id for a network allocation: ${JSON.stringify(owner)}`);
}

async function unlinkIfOwned(path: string, owner: string): Promise<void> {
  const holder = await readFile(path, 'utf8').catch(ignoreMissing);
  if (holder === owner) await unlink(path).catch(ignoreMissing);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function ignoreMissing(err: unknown): undefined {
  if (errno(err) === 'ENOENT') return undefined;
  throw err;
}
