/**
 * Host side of the raw isolated-vm runner. The runner lives in a child process (`raw-ivm-child.ts`) started
 * with `--no-node-snapshot` (isolated-vm needs it in-process on Node 20) and tsx's loader; it stays up for
 * every round of the benchmark and times only its own loop over the problems.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Problem, RunnerReport } from './humaneval.js';

export interface RawIvmRequest {
  type: 'run';
  problems: Problem[];
  timeoutMs: number;
  memoryMb: number;
}

export type RawIvmReply = { ok: true; report: RunnerReport } | { ok: false; error: string };

export class RawIvmRunner {
  private exitError: Error | null = null;
  private waiting: { resolve: (report: RunnerReport) => void; reject: (err: Error) => void } | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw: unknown) => {
      const reply = raw as RawIvmReply;
      const waiting = this.waiting;
      this.waiting = null;
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.report);
      else waiting.reject(new Error(`the raw isolated-vm runner failed: ${reply.error}`));
    });
    const onGone = (why: string): void => {
      this.exitError = new Error(`the raw isolated-vm runner ${why}`);
      this.waiting?.reject(this.exitError);
      this.waiting = null;
    };
    child.on('error', (err) => onGone(`could not start: ${err.message}`));
    child.on('exit', (code, signal) => onGone(`exited (${signal ?? `exit code ${code}`})`));
  }

  /** Starts the child process; `cwd` is the project root. */
  static start(cwd: string): RawIvmRunner {
    const entry = fileURLToPath(new URL('./raw-ivm-child.ts', import.meta.url));
    // The child is TypeScript too: load tsx's loader by its resolved URL so it works from any cwd.
    const tsx = import.meta.resolve('tsx');
    return new RawIvmRunner(
      fork(entry, [], {
        cwd,
        execArgv: ['--no-node-snapshot', '--import', tsx],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      }),
    );
  }

  run(request: Omit<RawIvmRequest, 'type'>): Promise<RunnerReport> {
    if (this.exitError) return Promise.reject(this.exitError);
    if (this.waiting) return Promise.reject(new Error('the raw isolated-vm runner is busy'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send({ type: 'run', ...request } satisfies RawIvmRequest);
    });
  }

  /** Stops the child; waits for it to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
