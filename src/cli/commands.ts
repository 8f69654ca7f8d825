import type { CliCommand } from './command';
import { statsCommand } from './stats';
import { powerCommand } from './power';
import { inspectCommand } from './inspect';
import { explainCommand } from './explain';
import { infoCommand } from './info';
import { convertCommand } from './convert';
import { predictCommand } from './predict';
import { mergeCommand } from './merge';
import { trainCommand } from './train';
import { demoCommand } from './demo';
import { reproduceCommand } from './reproduce';

/** Every sub-command, in the order `mst-ts --help` lists them. Add new commands here. */
export const COMMANDS: CliCommand[] = [predictCommand, mergeCommand, inspectCommand, statsCommand, powerCommand, explainCommand, infoCommand, convertCommand, trainCommand, demoCommand, reproduceCommand];
