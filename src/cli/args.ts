import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command';

/**
 * `parseArgs` for a sub-command: strict flags, and a mistake (an unknown flag, a missing value)
 * becomes a {@link UsageError} that names the command and shows its usage.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (e) {
    throw new UsageError(`mst-ts ${command}: ${(e as Error).message}\n\n${usage}`);
  }
}
