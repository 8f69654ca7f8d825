import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMMANDS } from './commands';
import { UsageError } from './command';
import { nearest } from './suggest';

/** The exit-status rule of every command, printed by `mst-ts --help` and `mst-ts <command> --help`. */
export const EXIT_STATUS = `Exit status (every command):
  0  success
  1  the input failed: a missing or unreadable file, a corrupt checkpoint or volume, a wrong
     shape, column or value in the data, a failed computation
  2  usage error: an unknown command or flag, a missing flag, a malformed flag value
`;

/**
 * The version in mst-ts's own `package.json`, found above the running code (`dist/cli.js` or
 * `src/cli/main.ts`), so it is the installed package's whatever the working folder.
 *
 * @example
 * cliVersion(); // '0.1.0'
 */
export function cliVersion(): string {
  let dir = typeof __dirname === 'string' ? __dirname : dirname(realpathSync(process.argv[1]));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'mst-ts' && pkg.version) return pkg.version;
  }
  throw new Error("cannot find mst-ts's package.json above the running script");
}

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'mst-ts: the Medical Slice Transformer on TensorFlow.js',
    '',
    'Usage: mst-ts <command> [options]',
    '       mst-ts <command> --help   (every flag of a command)',
    '       mst-ts --version',
    '',
    'Commands:',
    ...lines,
    '',
    EXIT_STATUS,
  ].join('\n');
}

/** Where {@link runCli} writes (the process's streams by default; tests capture them). */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_OUTPUT: CliOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/**
 * An error message with whatever prefix the code that threw gave it (`mst-ts stats: `,
 * `predict: `, `mst-ts: `) removed, so the runner prints exactly one.
 */
function withoutPrefix(message: string, command: string): string {
  let m = message;
  for (const p of [`mst-ts ${command}: `, 'mst-ts: ', `${command}: `]) if (m.startsWith(p)) m = m.slice(p.length);
  return withoutLibraryPrefix(m);
}

// A library function's name before its message (`explainVolume: `, `fromPretrained('a.pth'): `):
// lowerCamelCase with a capital, optionally with its quoted argument.
const LIBRARY_PREFIX = /^([a-z]+[A-Z][A-Za-z0-9]*)(?:\('([^']*)'\))?: /;

/**
 * A message the library wrote for API users, in CLI terms: the function names before it removed
 * (the argument they quote kept, as `--backend webgpu` for `setBackend('webgpu')`).
 *
 * @example
 * withoutLibraryPrefix("explainVolume: targetClass 5 is out of range"); // 'targetClass 5 is out of range'
 */
export function withoutLibraryPrefix(message: string): string {
  const match = LIBRARY_PREFIX.exec(message);
  if (!match) return message;
  const [prefix, fn, arg] = match;
  const rest = withoutLibraryPrefix(message.slice(prefix.length));
  if (arg === undefined) return rest;
  return `${fn === 'setBackend' ? `--backend ${arg}` : arg}: ${rest}`;
}

/**
 * Runs `mst-ts` with the arguments after the program name and resolves to the exit status:
 * 0 on success, 2 for a usage error ({@link UsageError}: an unknown command or flag, a bad flag
 * value), 1 for any other failure (a missing file, bad data). Errors print as one
 * `mst-ts <command>: <message>` line on stderr; a mistyped command suggests the nearest one.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: string[], out: CliOutput = PROCESS_OUTPUT): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    out.stdout(mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    out.stdout(`${cliVersion()}\n`);
    return 0;
  }
  if (name === undefined) {
    out.stderr(`mst-ts: name a command\n\n${mainHelp()}`);
    return 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const hint = nearest(name, COMMANDS.map((c) => c.name));
    out.stderr(`mst-ts: unknown command '${name}'${hint ? `; did you mean '${hint}'?` : ''}\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.stdout(`${command.usage.trimEnd()}\n\n${EXIT_STATUS}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    out.stderr(`mst-ts ${command.name}: ${withoutPrefix(message, command.name)}\n`);
    if (!(err instanceof UsageError) && process.env.MST_DEBUG && err instanceof Error) out.stderr(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
