/** The shape of a CLI verb. */
import type { Io } from './io.js';

export interface Command {
  name: string;
  /** Full help: usage line, options, examples. */
  help: string;
  /** Its options as parseArgs takes them (every one is documented in its help and in the README). */
  options: Readonly<Record<string, { type: 'string' | 'boolean' }>>;
  /** Runs the verb; resolves with the exit code (0 success, 1 any problem). */
  run(args: string[], io: Io): Promise<number>;
}
