import type { CommandDef } from '../command';
import { backupCommand } from './backup';
import { bases } from './bases';
import { consoleCommand } from './console';
import { cp } from './cp';
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
import { envCommand } from './env';
import { secretCommand } from './secret';
import { fileCommand } from './file';
import { sshkeysCommand } from './sshkeys';
import { tailscaleCommand } from './tailscale';
import { volumeCommand } from './volume';
import { serviceCommand } from './service';
import { expose } from './expose';
import { unexpose } from './unexpose';
import { ports } from './ports';
import { vscode } from './vscode';

/** Every command, in the order `pocketenv --help` lists them. */
export const commands: CommandDef[] = [serve, setup, bases, create, ls, ps, start, stop, rm, exec, consoleCommand, vscode, cp, backupCommand, envCommand, secretCommand, fileCommand, sshkeysCommand, tailscaleCommand, volumeCommand, serviceCommand, expose, unexpose, ports, whoami, token] as CommandDef[];
