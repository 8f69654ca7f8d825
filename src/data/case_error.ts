/**
 * The error a dataset throws when one case cannot be loaded: it carries the case's id and, for
 * manifests, the file and line, so a training loop can skip the case, report it and count it.
 *
 * @example
 * try { await ds.get(i); } catch (e) { if (e instanceof CaseError) skipped.push(e.caseId); else throw e; }
 */
export class CaseError extends Error {
  constructor(
    message: string,
    /** Id of the case that failed. */
    readonly caseId: string,
    /** Where the case is described (e.g. `'manifest.csv:17'`), if known. */
    readonly where?: string,
  ) {
    super(message);
    this.name = 'CaseError';
  }
}
