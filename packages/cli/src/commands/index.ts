import type { CommandDef } from '../command';
import { create } from './create';
import { exec } from './exec';
import { ls, ps } from './list';
import { rm } from './rm';
import { serve } from './serve';
import { setup } from './setup';
import { start } from './start';
import { stop } from './stop';
import { token } from './token';
import { whoami } from './whoami';

/** Every command, in the order `pocketenv --help` lists them. */
export const commands: CommandDef[] = [serve, setup, create, ls, ps, start, stop, rm, exec, whoami, token] as CommandDef[];
