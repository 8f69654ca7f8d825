import type { CliCommand } from './command';

/** Every sub-command, in the order `mst-ts --help` lists them. Add new commands here. */
export const COMMANDS: CliCommand[] = [];
