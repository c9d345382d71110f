/**
 * The one error base of automesh. Every error automesh throws on purpose extends {@link AutomeshError} and carries a
 * `code`. Checks go through {@link isAutomeshError} (a registry-wide symbol marker), never `instanceof` alone: a user's
 * project can hold two copies of this module (a bundled CLI and a library import, or two versions side by side), and
 * `instanceof` is false across copies while the marker is not.
 */
const MARK = Symbol.for('automesh.error');

export class AutomeshError<Code extends string = string> extends Error {
  /** Stable, machine-readable reason (e.g. `damaged`, `locked`, `invalid-name`); the message is for people. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, MARK, { value: true });
  }
}

/** True for an automesh error from any copy of this module; with `code`, only for that code. */
export function isAutomeshError<Code extends string = string>(
  error: unknown,
  code?: Code,
): error is AutomeshError<Code> {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[MARK] !== true) return false;
  return code === undefined || (error as AutomeshError).code === code;
}
