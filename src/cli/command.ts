/** One `mst-ts <name>` sub-command. */
export interface CliCommand {
  /** The word after `mst-ts`. */
  name: string;
  /** One line for `mst-ts --help`. */
  summary: string;
  /** Full usage text for `mst-ts <name> --help`: every flag and the JSON fields it prints. */
  usage: string;
  /** Runs with the arguments after the name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** An error whose message is shown to the user without a stack trace (exit code 2). */
export class UsageError extends Error {}
