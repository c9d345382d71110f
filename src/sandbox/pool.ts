/**
 * A pool of sandbox worker processes. Each worker runs one execution at a time, so a worker that dies
 * takes only its own execution with it; that execution is reported `crashed` and the pool starts a
 * replacement. A worker that does not answer by the execution's deadline plus a grace period is killed.
 *
 * Idle workers are unreferenced, so a program that forgets `close()` still exits.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { workerCommand } from './confine.js';
import { assertBuilt, distRoot, runtimeBundle, workerEntry } from './paths.js';
import type {
  DoneMessage,
  HostToWorker,
  ObservedConfinement,
  RawOutcome,
  RunMessage,
  WorkerToHost,
} from './protocol.js';

export interface PoolOptions {
  size: number;
  /** Heap limit the workers prepare their isolate and spare contexts with. */
  defaultMemoryMb: number;
  /** Time past an execution's own limit before its worker counts as wedged and is killed. */
  graceMs: number;
  /** Script each worker runs; only tests set it, to stand in a worker that misbehaves. */
  workerEntry?: string;
}

export interface PoolJob {
  message: Omit<RunMessage, 'id' | 'type'>;
  onTool: (callId: number, name: string, argsJson: string) => void;
}

interface ActiveJob extends PoolJob {
  id: number;
  resolve: (outcome: RawOutcome) => void;
  deadline?: NodeJS.Timeout;
  killReason?: string;
}

interface Slot {
  child: ChildProcess;
  ready: boolean;
  job: ActiveJob | null;
  stderrTail: string;
  exited: boolean;
  /** The worker said it will not run anything more; it is being killed and replaced. */
  retiring: boolean;
  idleSince: number;
  /** The worker said its next isolate is prepared. */
  spareReady: boolean;
}

const STDERR_TAIL = 2000;

/** Environment of a worker: nothing of the host's, so no secret can be read even after an escape. */
function workerEnv(): NodeJS.ProcessEnv {
  return { NODE_ENV: 'production' };
}

function crashedOutcome(message: string): RawOutcome {
  return {
    kind: 'error',
    outputJson: null,
    category: 'crashed',
    errorName: 'Error',
    errorMessage: message,
    stack: null,
    logs: [],
    cpuMs: 0,
    heapBytes: 0,
    toolCalls: 0,
  };
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: ActiveJob[] = [];
  private readonly byId = new Map<number, { job: ActiveJob; slot: Slot | null }>();
  private nextId = 1;
  private closed = false;
  /** Workers started over the pool's life, for diagnostics and tests. */
  spawned = 0;
  /** The confinement the first worker to be ready saw from inside; `null` until then (or if it said nothing). */
  observed: ObservedConfinement | null = null;

  constructor(private readonly options: PoolOptions) {
    if (!options.workerEntry) assertBuilt();
  }

  get size(): number {
    return this.options.size;
  }

  /** Number of executions running or waiting. */
  get pending(): number {
    return this.byId.size;
  }

  /** Starts every worker now instead of on first use, and waits until they are ready. */
  async warm(): Promise<void> {
    while (this.slots.size < this.options.size) this.spawn();
    await Promise.all([...this.slots].map((slot) => this.whenReady(slot)));
  }

  private whenReady(slot: Slot): Promise<void> {
    if (slot.ready || slot.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (raw: unknown): void => {
        if ((raw as WorkerToHost).type === 'ready') done();
      };
      const done = (): void => {
        slot.child.off('message', check);
        slot.child.off('exit', done);
        resolve();
      };
      slot.child.on('message', check);
      slot.child.on('exit', done);
    });
  }

  /** Queues an execution; resolves with the worker's outcome, or `crashed` if the worker died. */
  run(job: PoolJob): { id: number; done: Promise<RawOutcome> } {
    if (this.closed) throw new Error('The sandbox pool is closed; create a new Executor.');
    const id = this.nextId++;
    let resolve!: (outcome: RawOutcome) => void;
    const done = new Promise<RawOutcome>((r) => {
      resolve = r;
    });
    const active: ActiveJob = { ...job, id, resolve };
    this.byId.set(id, { job: active, slot: null });
    this.queue.push(active);
    this.dispatch();
    return { id, done };
  }

  /** Sends a tool's reply to the worker running execution `id`. */
  replyTool(id: number, callId: number, reply: string): void {
    const entry = this.byId.get(id);
    if (entry?.slot) this.send(entry.slot, { type: 'tool-reply', id, callId, reply });
  }

  /** Ends execution `id` with the given category (caller's abort, host-side caps). */
  abort(id: number, category: RawOutcome['category'] & string, message: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    if (!entry.slot) {
      this.queue.splice(this.queue.indexOf(entry.job), 1);
      this.complete(entry.job, { ...crashedOutcome(message), category });
      return;
    }
    this.send(entry.slot, { type: 'abort', id, category, message });
  }

  /** Stops every worker; executions still running end as `crashed`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.complete(job, crashedOutcome('The sandbox was shut down.'));
    const exits = [...this.slots].map(
      (slot) =>
        new Promise<void>((resolve) => {
          if (slot.exited) return resolve();
          slot.child.once('exit', () => resolve());
          this.setReferenced(slot, true);
          slot.child.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  }

  private send(slot: Slot, message: HostToWorker): void {
    if (slot.exited || !slot.child.connected) return;
    try {
      slot.child.send(message);
    } catch {
      // The worker is going away; its exit handler reports the execution.
    }
  }

  private spawn(): Slot {
    const entry = this.options.workerEntry ?? workerEntry;
    const { execPath, execArgv } = workerCommand(entry, distRoot, this.options.workerEntry ? [entry] : []);
    const child = fork(entry, [runtimeBundle, String(this.options.defaultMemoryMb)], {
      execPath,
      execArgv,
      env: workerEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.spawned += 1;
    const slot: Slot = {
      child,
      ready: false,
      job: null,
      stderrTail: '',
      exited: false,
      retiring: false,
      idleSince: 0,
      spareReady: false,
    };
    this.slots.add(slot);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      slot.stderrTail = (slot.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    child.on('message', (raw: unknown) => this.onMessage(slot, raw as WorkerToHost));
    child.on('error', () => {
      // 'exit' follows (or the spawn failed, which 'exit' also reports); nothing to add here.
    });
    // 'close', not 'exit': 'exit' can come before the last messages of the IPC channel have been read, and a
    // result the worker sent just before leaving was then reported as a crash. 'close' follows the channel's end.
    child.on('close', (code, signal) => this.onExit(slot, code, signal));
    // Referenced while starting (someone is waiting for it) and while busy; unreferenced when idle.
    return slot;
  }

  private setReferenced(slot: Slot, referenced: boolean): void {
    const { child } = slot;
    const handles = [child, child.channel, child.stderr] as Array<
      { ref?: () => void; unref?: () => void } | null | undefined
    >;
    for (const handle of handles) {
      if (referenced) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  private onMessage(slot: Slot, message: WorkerToHost): void {
    switch (message.type) {
      case 'spare':
        slot.spareReady = true;
        break;
      case 'ready':
        slot.ready = true;
        this.observed ??= message.confinement ?? null;
        this.dispatch();
        if (!slot.job) this.setReferenced(slot, false);
        break;
      case 'tool': {
        const job = slot.job;
        if (job && job.id === message.id) job.onTool(message.callId, message.name, message.argsJson);
        break;
      }
      case 'done':
        this.onDone(slot, message);
        break;
    }
  }

  private onDone(slot: Slot, message: DoneMessage): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    slot.job = null;
    slot.idleSince = performance.now();
    slot.spareReady = message.spare === true;
    this.complete(job, message.outcome);
    if (message.retire) {
      // The worker is about to exit (its memory outside the isolate grew too much). Never hand it another
      // execution: that one would die with the process. Kill it now rather than trust it to exit; the exit
      // handler starts a replacement for any queued work.
      slot.retiring = true;
      slot.child.kill('SIGKILL');
      this.dispatch();
      return;
    }
    this.setReferenced(slot, false);
    this.dispatch();
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.slots.has(slot)) return;
    slot.exited = true;
    this.slots.delete(slot);
    const job = slot.job;
    slot.job = null;
    if (job) this.complete(job, this.deathOutcome(slot, job, code, signal));
    // Keep the pool at strength so the next execution does not pay for a cold start. A worker that died
    // before it was ever ready is not replaced here (that would loop on a broken install); the next
    // execution starts one and reports its failure.
    if (!this.closed && slot.ready && this.slots.size < this.options.size) this.spawn();
    if (!this.closed) this.dispatch();
  }

  private deathOutcome(slot: Slot, job: ActiveJob, code: number | null, signal: NodeJS.Signals | null): RawOutcome {
    const replaced = 'Only this execution was affected; a fresh worker replaced it.';
    // V8 aborts the whole process on some heap exhaustion paths that isolated-vm cannot intercept
    // (isolated-vm #137); its report names the cause, and the cause is the memory limit.
    if (
      !job.killReason
      && /is_heap_oom = 1|Reached heap limit|JavaScript heap out of memory|invalid size error/.test(slot.stderrTail)
    ) {
      return {
        ...crashedOutcome(''),
        category: 'memory',
        errorName: 'RangeError',
        errorMessage:
          `Execution exceeded the memory limit of ${job.message.memoryMb} MB and brought down its `
          + `sandbox worker. ${replaced}`,
      };
    }
    const lines = slot.stderrTail.trim().split('\n').filter(Boolean);
    const detail = lines.slice(-2).join(' | ').slice(0, 500);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const reason = job.killReason ?? `The sandbox worker running this code died (${how})`;
    return crashedOutcome(`${reason}${detail ? `: ${detail}` : ''}. ${replaced}`);
  }

  private complete(job: ActiveJob, outcome: RawOutcome): void {
    if (job.deadline) clearTimeout(job.deadline);
    this.byId.delete(job.id);
    job.resolve(outcome);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      // The worker idle longest has most likely finished preparing its next isolate.
      const slot = [...this.slots]
        .filter((s) => s.ready && !s.job && !s.exited && !s.retiring)
        .sort((a, b) => Number(b.spareReady) - Number(a.spareReady) || a.idleSince - b.idleSince)[0];
      if (!slot) {
        const starting = [...this.slots].filter((s) => !s.ready && !s.exited && !s.retiring).length;
        // Start workers only for work that no worker already starting will take.
        // A retiring worker is on its way out: its replacement may start before it has exited.
        const live = [...this.slots].filter((s) => !s.retiring).length;
        let wanted = Math.min(this.options.size - live, this.queue.length - starting);
        while (wanted-- > 0) this.spawn();
        return;
      }
      const job = this.queue.shift() as ActiveJob;
      slot.job = job;
      slot.spareReady = false;
      const entry = this.byId.get(job.id);
      if (entry) entry.slot = slot;
      this.setReferenced(slot, true);
      const limit = job.message.timeoutMs + this.options.graceMs;
      job.deadline = setTimeout(() => {
        if (slot?.job !== job) return;
        job.killReason =
          `The sandbox worker stopped responding ${this.options.graceMs} ms past the `
          + `${job.message.timeoutMs} ms time limit and was killed`;
        slot.child.kill('SIGKILL');
      }, limit);
      this.send(slot, { type: 'run', id: job.id, ...job.message });
    }
  }
}
