/** The items `automesh check` reports, printed as they come (or collected for --json). */
import { type Io, ms, paint, println, spinner } from './io.js';

export type Status = 'ok' | 'warn' | 'fail' | 'info' | 'skip';
export type Section = 'node' | 'settings' | 'sandbox' | 'providers' | 'llm' | 'agents' | 'storage';

const SECTION_TITLES: Record<Section, string> = {
  node: 'Node.js',
  settings: 'Settings',
  sandbox: 'Sandbox (isolated-vm self-test)',
  providers: 'LLM providers',
  llm: 'Live calls (--validate-llm)',
  agents: 'Agents: providers and models',
  storage: 'Sandbox and storage settings',
};

export interface CheckItem {
  section: Section;
  id: string;
  status: Status;
  message: string;
  /** What to do about a problem. */
  hint?: string;
  durationMs?: number;
  /** Lines shown under the item (always for problems, otherwise with --verbose). */
  details?: string[];
}

/** Same symbols as io.mark, padded before painting so that columns line up. */
export function badge(io: Io, status: Status): string {
  const text = io.tty
    ? { ok: '✔', fail: '✖', warn: '!', info: '•', skip: '-' }[status]
    : { ok: 'ok', fail: 'FAIL', warn: 'warn', info: '-', skip: 'skip' }[status];
  const style = ({ ok: 'green', fail: 'red', warn: 'yellow', info: 'cyan', skip: 'gray' } as const)[status];
  return paint(io, style, text.padEnd(io.tty ? 1 : 4));
}

export class Reporter {
  readonly items: CheckItem[] = [];
  private shown: Section | null = null;

  constructor(
    private readonly io: Io,
    private readonly json: boolean,
    private readonly verbose: boolean,
  ) {}

  add(item: CheckItem): CheckItem {
    this.items.push(item);
    if (this.json) return item;
    const { io } = this;
    if (this.shown !== item.section) {
      println(io, '');
      println(io, paint(io, 'bold', SECTION_TITLES[item.section]));
      this.shown = item.section;
    }
    const time = item.durationMs !== undefined && this.verbose ? paint(io, 'gray', `  (${ms(item.durationMs)})`) : '';
    println(io, `  ${badge(io, item.status)} ${item.message}${time}`);
    const pad = io.tty ? '    ' : '       ';
    if (item.details && (this.verbose || item.status === 'fail')) {
      for (const line of item.details) println(io, `${pad}${paint(io, 'gray', line)}`);
    }
    if (item.hint && (item.status === 'fail' || item.status === 'warn'))
      println(io, `${pad}${paint(io, 'yellow', `→ ${item.hint}`)}`);
    return item;
  }

  /** A spinner on a TTY; nothing otherwise. */
  busy(text: string): () => void {
    if (this.json || !this.io.tty) return () => {};
    const spin = spinner(this.io, text);
    // The spinner's final line is blank: the caller prints the result itself.
    return () => {
      spin.stop('');
      this.io.out.write('\x1b[1A\x1b[2K');
    };
  }

  /** A spinner while `work` runs. */
  async while<T>(text: string, work: () => Promise<T>): Promise<T> {
    const done = this.busy(text);
    try {
      return await work();
    } finally {
      done();
    }
  }
}
