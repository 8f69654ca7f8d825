import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command';
import { nearest } from './suggest';

/**
 * `parseArgs` for a sub-command: strict flags, and a mistake (an unknown flag, a missing value)
 * becomes a {@link UsageError} that names the command, suggests the nearest flag for a mistyped
 * one and shows the usage.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (e) {
    throw new UsageError(`mst-ts ${command}: ${describeParseError(e as Error, config)}\n\n${usage}`);
  }
}

/** The flags a `parseArgs` config accepts, as typed on the command line (`--score`, `-h`). */
function flagsOf(config: ParseArgsConfig): string[] {
  const flags: string[] = [];
  for (const [name, option] of Object.entries(config.options ?? {})) {
    flags.push(`--${name}`);
    if (option.short) flags.push(`-${option.short}`);
  }
  return flags;
}

/** Node's parse error, with the nearest known flag for an unknown one. */
function describeParseError(err: Error, config: ParseArgsConfig): string {
  const code = (err as NodeJS.ErrnoException).code;
  const unknown = /^Unknown option '([^']+)'/.exec(err.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const name = unknown.split('=')[0];
    const hint = nearest(name, flagsOf(config));
    return `unknown option '${name}'${hint ? `; did you mean '${hint}'?` : ''}`;
  }
  return err.message;
}

/** The tfjs backends `--backend` accepts, as every command's usage lists them. */
export const CLI_BACKENDS: readonly string[] = ['wasm', 'cpu', 'webgpu', 'tensorflow'];

/**
 * Checks a `--backend` value before anything runs: an unknown name is a {@link UsageError} that
 * lists the backends (and suggests the nearest).
 *
 * @example
 * checkBackendFlag('predict', values.backend); // throws for 'foo'
 */
export function checkBackendFlag(command: string, value: string | undefined): void {
  if (value === undefined || CLI_BACKENDS.includes(value)) return;
  const hint = nearest(value, CLI_BACKENDS);
  throw new UsageError(`${command}: unknown --backend '${value}'${hint ? `; did you mean '${hint}'?` : ''}; expected one of ${CLI_BACKENDS.join(', ')}`);
}
