/**
 * Terminal output for the CLI: colours and spinners only on a TTY (and never with NO_COLOR), tables, JSON.
 */
import { styleText } from 'node:util';
import { AutomeshError, isAutomeshError } from '../core/errors.js';

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Colours and live redraws are allowed. */
  tty: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  const tty = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return { out: process.stdout, err: process.stderr, tty, cwd: process.cwd(), env: process.env };
}

type Style = 'green' | 'red' | 'yellow' | 'cyan' | 'gray' | 'bold' | 'dim';

export function paint(io: Io, style: Style, text: string): string {
  return io.tty ? styleText(style, text) : text;
}

export function println(io: Io, text = ''): void {
  io.out.write(`${text}\n`);
}

export function eprintln(io: Io, text = ''): void {
  io.err.write(`${text}\n`);
}

export function printJson(io: Io, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export const mark = {
  ok: (io: Io): string => paint(io, 'green', io.tty ? '✔' : 'ok'),
  fail: (io: Io): string => paint(io, 'red', io.tty ? '✖' : 'FAIL'),
  warn: (io: Io): string => paint(io, 'yellow', io.tty ? '!' : 'warn'),
  info: (io: Io): string => paint(io, 'cyan', io.tty ? '•' : '-'),
};

/** A plain-text table: columns padded to their widest cell. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** A spinner on a TTY; elsewhere it prints nothing until `stop`. */
export function spinner(io: Io, text: string): { stop(final: string): void } {
  if (!io.tty) return { stop: (final) => println(io, final) };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const timer = setInterval(() => {
    io.out.write(`\r${paint(io, 'cyan', frames[i++ % frames.length] as string)} ${text}`);
  }, 80);
  return {
    stop(final: string) {
      clearInterval(timer);
      io.out.write(`\r\x1b[2K${final}\n`);
    },
  };
}

export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

/**
 * An error the CLI reports as it is: one message, optional detail lines (e.g. each problem of a workflow file)
 * and a hint saying what to do (code `cli`; `usage` for a {@link UsageError}). With --json it becomes `{ ok: false, error, details, hint }` on stdout.
 */
export class CliError extends AutomeshError<'cli' | 'usage'> {
  constructor(
    message: string,
    readonly details: string[] = [],
    readonly hint: string | null = null,
    code: 'cli' | 'usage' = 'cli',
  ) {
    super(code, message);
    this.name = 'CliError';
  }
}

/** A usage error (a wrong or missing argument): the one wrong thing and a hint, never the whole help. Code `usage`. */
export class UsageError extends CliError {
  constructor(message: string, hint: string | null = null) {
    super(message, [], hint, 'usage');
    this.name = 'UsageError';
  }
}

/** True for a {@link CliError} (a {@link UsageError} too) from any copy of automesh. */
export function isCliError(error: unknown): error is CliError {
  return isAutomeshError(error, 'cli') || isAutomeshError(error, 'usage');
}
