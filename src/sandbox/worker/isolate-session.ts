/**
 * One execution in a fresh V8 context, inside a sandbox worker process.
 *
 * Each worker keeps one isolate and gives every execution a new context in it (its own globals and built-ins,
 * so nothing one program changes is visible to the next). The isolate is reused only after a run that ended
 * on its own and left the isolate idle; a run stopped from outside (time limit, memory, caps, abort) or one
 * still busy after reporting its result takes the isolate, and the worker, with it. Contexts are prepared
 * (created, runtime loaded) before the run is known, so the run itself only compiles and starts the user's
 * program. Every boundary crossing is a string; every host callback is a plain function that never throws
 * (isolated-vm #314: a host callback throwing before its first await takes the process down), and every
 * isolated-vm option object has a null prototype.
 */
import ivm from 'isolated-vm';
import { type RawOutcome, type RunMessage, toolBytesMessage } from '../protocol.js';
import type { ExecutionErrorCategory } from '../types.js';

/** Callbacks a session sends out of the worker. */
export interface SessionHost {
  callTool(callId: number, name: string, argsJson: string): void;
  /**
   * The run is over. `reusable`: it ended on its own and left the isolate idle, so the isolate may serve the
   * next run (in a new context). Otherwise the isolate has been disposed, or is being stopped from outside
   * (limit, cap, abort), and must not be trusted again.
   */
  finished(outcome: RawOutcome, reusable: boolean): void;
}

const USER_FILENAME = 'user-code.js';
const RUNTIME_FILENAME = 'automesh-runtime.js';

function nullProto<T extends object>(value: T): T {
  return Object.assign(Object.create(null) as T, value);
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** V8's code cache of the runtime bundle, made by the first isolate; later ones skip most of the compile. */
let runtimeCodeCache: ivm.ExternalCopy<ArrayBuffer> | undefined;

/**
 * The worker's isolate: the memory limit, the compiled runtime, and how many runs it has served. A new context
 * in it costs ~0.6 ms of CPU where a new isolate costs ~2.6 ms, which on a 2-core machine running a wide
 * workflow level is the difference between the sandbox keeping up with the model and falling behind it.
 */
export class IsolateHost {
  /** Runs that ended in this isolate. */
  runs = 0;

  private constructor(
    readonly isolate: ivm.Isolate,
    private readonly runtime: ivm.Script,
    readonly memoryMb: number,
  ) {}

  static create(runtimeSource: string, memoryMb: number): IsolateHost {
    const isolate = new ivm.Isolate(nullProto({ memoryLimit: memoryMb }));
    try {
      const runtime = isolate.compileScriptSync(
        runtimeSource,
        nullProto({
          filename: RUNTIME_FILENAME,
          ...(runtimeCodeCache ? { cachedData: runtimeCodeCache } : { produceCachedData: true }),
        }),
      );
      // The typings leave the produced cache off compileScriptSync's return type; it is there at run time.
      const produced = (runtime as ivm.Script & ivm.CachedDataResult).cachedData;
      if (!runtimeCodeCache && produced) runtimeCodeCache = produced;
      return new IsolateHost(isolate, runtime, memoryMb);
    } catch (err) {
      if (!isolate.isDisposed) isolate.dispose();
      throw err;
    }
  }

  get isDisposed(): boolean {
    return this.isolate.isDisposed;
  }

  /**
   * A new context with the runtime loaded and its host callbacks wired to whichever session adopts it.
   * Synchronous on purpose: it is only called while no run is active in this isolate (the worker runs one at
   * a time, and an isolate is kept only when its last run left it idle), so the isolate's lock is free and
   * each *Sync call costs microseconds instead of a thread hop.
   */
  prepareContext(): PreparedContext {
    const context = this.isolate.createContextSync();
    try {
      let prepared: PreparedContext | null = null;
      const jail = context.global;
      // Callbacks exist before the session does; they route through `prepared.session`, which is cleared when
      // the run ends, so code of a finished run can never reach a later run's logs, tools or result.
      jail.setSync(
        '__automesh_log__',
        new ivm.Callback((level: unknown, text: unknown) => {
          prepared?.session?.onLog(level, text);
        }),
      );
      jail.setSync(
        '__automesh_done__',
        new ivm.Callback((kind: unknown, payload: unknown) => {
          prepared?.session?.onDone(kind, payload);
        }),
      );
      jail.setSync(
        '__automesh_tool__',
        new ivm.Callback((name: unknown, argsJson: unknown): number => {
          return prepared?.session?.onTool(name, argsJson) ?? -1;
        }),
      );
      this.runtime.runSync(context, nullProto({ timeout: 5000 }));
      const start = jail.getSync('__automesh_start__', nullProto({ reference: true as const })) as ivm.Reference<
        (contextJson: string, toolsJson: string, logLimit: number) => void
      >;
      const deliver = jail.getSync('__automesh_deliver__', nullProto({ reference: true as const })) as ivm.Reference<
        (callId: number, replyJson: string) => void
      >;
      jail.deleteSync('__automesh_start__');
      jail.deleteSync('__automesh_deliver__');
      prepared = new PreparedContext(this, context, start, deliver);
      return prepared;
    } catch (err) {
      context.release();
      throw err;
    }
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/** A context of an {@link IsolateHost}, ready for one run. */
export class PreparedContext {
  session: IsolateSession | null = null;

  constructor(
    readonly host: IsolateHost,
    readonly context: ivm.Context,
    readonly start: ivm.Reference<(contextJson: string, toolsJson: string, logLimit: number) => void>,
    readonly deliver: ivm.Reference<(callId: number, replyJson: string) => void>,
  ) {}

  get isolate(): ivm.Isolate {
    return this.host.isolate;
  }

  /** Lets the context go; its objects become garbage of the isolate. */
  release(): void {
    this.session = null;
    if (this.host.isDisposed) return;
    this.start.release();
    this.deliver.release();
    this.context.release();
  }
}

/**
 * How much of the isolate's CPU time a run that reported its result may use handing control back (its pending
 * promise jobs). More, and its isolate counts as busy: the result stands, but the isolate is disposed and the
 * worker retires. CPU time, not wall time: on a busy machine the isolate's thread, or this one, may wait longer
 * than that for a core, and a worker retired for it cost its replacement's start (~0.5 s of CPU) for nothing.
 */
const IDLE_CPU_MS = 20;
/**
 * The wall time that wait may take however little CPU the isolate uses (code blocked outside V8, say). It also
 * ends a few slices before the run's time limit, so a run that reported its result in time is not reported as
 * timed out for the wait.
 */
const IDLE_WAIT_MAX_MS = 250;

/** Matches the message isolated-vm gives when the memory limit disposed the isolate. */
const MEMORY_MESSAGE = /memory limit|Array buffer allocation failed|allocation failed/i;

export class IsolateSession {
  private readonly logs: string[] = [];
  private logBytes = 0;
  private toolCalls = 0;
  private toolBytes = 0;
  private nextCallId = 1;
  private readonly pendingTools = new Set<number>();
  private finishedFlag = false;
  /**
   * A stop was decided (a cap crossed inside a callback, where finishing must wait until the callback returns):
   * from here on nothing more is delivered into the isolate.
   */
  private stopDecided = false;
  private disposedByUs = false;
  private lastHeapBytes = 0;
  private heapReadInFlight = false;
  private endedOnItsOwn = false;
  /** Calls into the isolate (compile, start, tool replies) that have not returned yet. */
  private callsInFlight = 0;
  private idleWaiter: (() => void) | null = null;
  /** The first error a call into the isolate ended with. */
  private callError: { error: unknown } | null = null;
  /** CPU the isolate had used before the run (creating it and loading the runtime). */
  private cpuAtStart = 0n;
  private readonly timers: NodeJS.Timeout[] = [];
  /** When the run's time limit ends (performance.now()). */
  private deadline = 0;

  constructor(
    private readonly prepared: PreparedContext,
    private readonly run: RunMessage,
    private readonly host: SessionHost,
  ) {
    prepared.session = this;
  }

  get isFinished(): boolean {
    return this.finishedFlag;
  }

  async begin(): Promise<void> {
    const { isolate, context, start } = this.prepared;
    const { run } = this;
    this.deadline = performance.now() + run.timeoutMs;
    this.timers.push(
      setTimeout(() => {
        this.terminate('timeout', `Execution exceeded the time limit of ${run.timeoutMs} ms.`);
      }, run.timeoutMs),
    );
    // isolated-vm disposes an isolate on its own when the heap limit is hit, sometimes while no call of
    // ours is in flight to report it; polling catches that case.
    this.timers.push(setInterval(() => this.poll(), 20));
    try {
      this.cpuAtStart = isolate.cpuTime;
      // One call compiles and runs the program text, which only defines `__automesh_main__`. Synchronous: the isolate
      // is idle (a fresh context, no run in it), and an asynchronous call costs a hop to isolated-vm's thread and
      // back (~0.3-0.5 ms of CPU, more of wall time on a busy machine) for microseconds of work. Code that breaks out
      // of the wrapper to run at top level is still stopped by the time and memory limits, which isolated-vm
      // enforces inside the call; only a caller's abort waits for the call's end then (at most the time limit).
      context.evalSync(run.code, nullProto({ filename: USER_FILENAME, timeout: run.timeoutMs }));
      if (this.finishedFlag) return;
      await this.call(
        start.apply(
          undefined,
          [run.contextJson, JSON.stringify(run.toolNames), run.maxLogBytes],
          nullProto({ arguments: nullProto({ copy: true as const }), timeout: run.timeoutMs }),
        ),
      );
    } catch (err) {
      this.onHostSideError(err);
    }
  }

  /** Counts a call into the isolate while it runs: the isolate is idle only when none is in flight. */
  private call<T>(pending: Promise<T>): Promise<T> {
    this.callsInFlight += 1;
    const settle = (): void => {
      this.callsInFlight -= 1;
      if (this.callsInFlight === 0) this.idleWaiter?.();
    };
    pending.then(settle, (err: unknown) => {
      // Kept before anyone is told the isolate is idle: an error the call ended with (an unhandled rejection,
      // say) outranks a result the code reported during that call.
      if (!this.finishedFlag) this.callError ??= { error: err };
      settle();
    });
    return pending;
  }

  /**
   * Resolves true once no call into the isolate is in flight; false once the isolate has used {@link IDLE_CPU_MS}
   * of CPU meanwhile, or {@link IDLE_WAIT_MAX_MS} have passed.
   */
  private whenIdle(): Promise<boolean> {
    if (this.callsInFlight === 0) return Promise.resolve(true);
    const { isolate } = this.prepared;
    const cpuAtWait = isolate.cpuTime;
    const waitStarted = performance.now();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const giveUp = (): void => {
        this.idleWaiter = null;
        resolve(false);
      };
      // A timer that fires late runs before the I/O callbacks that were due first, among them the end of the
      // call waited for: the check after it (setImmediate) sees the end of that call.
      const check = (): void => {
        if (this.idleWaiter === null) return;
        const now = performance.now();
        const busy = isolate.isDisposed || Number(isolate.cpuTime - cpuAtWait) / 1e6 >= IDLE_CPU_MS;
        const late = now - waitStarted >= IDLE_WAIT_MAX_MS || this.deadline - now < 3 * IDLE_CPU_MS;
        if (busy || late) giveUp();
        else timer = setTimeout(() => setImmediate(check), IDLE_CPU_MS);
      };
      timer = setTimeout(() => setImmediate(check), IDLE_CPU_MS);
      this.idleWaiter = () => {
        clearTimeout(timer);
        this.idleWaiter = null;
        resolve(true);
      };
    });
  }

  // Never call a *Sync isolate method here: it waits for the isolate's lock, and code spinning in the
  // isolate would then block this thread, and with it the timers and messages that must stop that code.
  private poll(): void {
    if (this.finishedFlag) return;
    const { isolate } = this.prepared;
    if (isolate.isDisposed) {
      if (!this.disposedByUs) this.finish(this.failure('memory', 'RangeError', this.memoryMessage()));
      return;
    }
    if (this.heapReadInFlight) return;
    this.heapReadInFlight = true;
    isolate
      .getHeapStatistics()
      .then(
        (stats) => {
          this.lastHeapBytes = Math.max(this.lastHeapBytes, stats.used_heap_size);
        },
        () => {
          // Disposed while reading: the next poll reports it.
        },
      )
      .finally(() => {
        this.heapReadInFlight = false;
      });
  }

  private memoryMessage(): string {
    return `Execution exceeded the memory limit of ${this.run.memoryMb} MB.`;
  }

  private onHostSideError(err: unknown): void {
    if (this.finishedFlag) return;
    const { outcome, ownEnd } = this.classify(err);
    if (ownEnd) void this.finishMeasured(outcome);
    else this.finish(outcome);
  }

  /**
   * What an error from a call into the isolate means. `ownEnd`: the code itself threw (the call returned, so
   * the isolate is idle), as opposed to a limit or a dead isolate.
   */
  private classify(err: unknown): { outcome: RawOutcome; ownEnd: boolean } {
    const message = err instanceof Error ? err.message : String(err);
    const name = err instanceof Error ? err.name : 'Error';
    if (this.prepared.isolate.isDisposed && !this.disposedByUs) {
      return { outcome: this.failure('memory', 'RangeError', this.memoryMessage()), ownEnd: false };
    }
    if (/timed out/i.test(message)) {
      return {
        outcome: this.failure(
          'timeout',
          'TimeoutError',
          `Execution exceeded the time limit of ${this.run.timeoutMs} ms.`,
        ),
        ownEnd: false,
      };
    }
    if (MEMORY_MESSAGE.test(message))
      return { outcome: this.failure('memory', 'RangeError', this.memoryMessage()), ownEnd: false };
    if (name === 'SyntaxError') {
      const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : null;
      return { outcome: { ...this.failure('syntax', name, message), stack }, ownEnd: true };
    }
    return { outcome: this.failure('runtime', name, message), ownEnd: true };
  }

  onLog(level: unknown, text: unknown): void {
    if (this.finishedFlag || typeof level !== 'string' || typeof text !== 'string') return;
    const line = level === 'log' || level === 'info' ? text : `[${level}] ${text}`;
    this.logBytes += bytes(line) + 1;
    if (this.logBytes > this.run.maxLogBytes) {
      this.logs.push(`[automesh] console output cut at ${this.run.maxLogBytes} bytes`);
      this.stopSoon(
        'output',
        `Console output exceeded the limit of ${this.run.maxLogBytes} bytes; log less, or summarize before logging.`,
      );
      return;
    }
    this.logs.push(line);
  }

  onDone(kind: unknown, payload: unknown): void {
    if (this.finishedFlag || typeof kind !== 'string' || typeof payload !== 'string') return;
    // Runs as a synchronous callback while the isolate waits on us: defer the dispose until it returns.
    if (kind === 'ok') {
      const size = bytes(payload);
      if (size > this.run.maxOutputBytes) {
        setImmediate(() =>
          this.finish(
            this.failure(
              'output',
              'RangeError',
              `The result is ${size} bytes of JSON, over the limit of ${this.run.maxOutputBytes} bytes; `
                + 'return a smaller summary.',
            ),
          ),
        );
        return;
      }
      setImmediate(() => void this.finishMeasured({ ...this.base(), kind: 'ok', outputJson: payload }));
    } else if (kind === 'no_result') {
      setImmediate(
        () =>
          void this.finishMeasured(
            this.failure(
              'no_result',
              'NoResult',
              'The code finished without a result: assign the answer to `result` (e.g. `result = value`) or `return` it.',
            ),
          ),
      );
    } else {
      let parsed: { category?: string; name?: string; message?: string; stack?: string };
      try {
        parsed = JSON.parse(payload) as typeof parsed;
      } catch {
        parsed = { message: 'the sandbox runtime reported an unreadable error' };
      }
      const category = (
        ['tool', 'output', 'syntax'].includes(parsed.category ?? '') ? parsed.category : 'runtime'
      ) as ExecutionErrorCategory;
      const message = String(parsed.message ?? '');
      const finalCategory =
        category === 'runtime' && /Array buffer allocation failed/.test(message) ? 'memory' : category;
      setImmediate(
        () =>
          void this.finishMeasured({
            ...this.failure(finalCategory, String(parsed.name ?? 'Error'), message),
            stack: typeof parsed.stack === 'string' ? parsed.stack : null,
          }),
      );
    }
  }

  /** Queues a tool call from the isolate; returns its call id (the reply arrives through `toolReply`). */
  onTool(name: unknown, argsJson: unknown): number {
    if (this.finishedFlag || typeof name !== 'string' || typeof argsJson !== 'string') return -1;
    this.toolCalls += 1;
    if (this.toolCalls > this.run.maxToolCalls) {
      this.stopSoon('tool', `Too many tool calls: the limit is ${this.run.maxToolCalls} per execution.`);
      return -1;
    }
    this.toolBytes += bytes(argsJson);
    if (this.toolBytes > this.run.maxToolBytes) {
      this.stopSoon('output', toolBytesMessage(this.run.maxToolBytes));
      return -1;
    }
    const callId = this.nextCallId++;
    this.pendingTools.add(callId);
    // Sent after the isolate has the id, so a fast reply cannot overtake the call's registration.
    setImmediate(() => this.host.callTool(callId, name, argsJson));
    return callId;
  }

  /** Delivers a tool's reply (from the host) into the isolate. */
  toolReply(callId: number, reply: string): void {
    if (this.finishedFlag || this.stopDecided || !this.pendingTools.delete(callId)) return;
    this.toolBytes += bytes(reply);
    if (this.toolBytes > this.run.maxToolBytes) {
      this.terminate('output', toolBytesMessage(this.run.maxToolBytes));
      return;
    }
    this.call(
      this.prepared.deliver.apply(
        undefined,
        [callId, reply],
        nullProto({ arguments: nullProto({ copy: true as const }), timeout: this.run.timeoutMs }),
      ),
    ).catch((err: unknown) => this.onHostSideError(err));
  }

  /**
   * Ends the execution once the isolate callback that found a cap crossed has returned. Delivery into the
   * isolate stops at once: the replies still arriving would only add calls in flight to an isolate that is
   * being stopped.
   */
  private stopSoon(category: ExecutionErrorCategory, message: string): void {
    this.stopDecided = true;
    setImmediate(() => this.terminate(category, message));
  }

  /** Ends the execution now with the given category (time limit, caps, host abort). */
  terminate(category: ExecutionErrorCategory, message: string): void {
    if (this.finishedFlag) return;
    const name = category === 'timeout' ? 'TimeoutError' : category === 'memory' ? 'RangeError' : 'Error';
    this.finish(this.failure(category, name, message));
  }

  private base(): RawOutcome {
    return {
      kind: 'ok',
      outputJson: null,
      category: null,
      errorName: null,
      errorMessage: null,
      stack: null,
      logs: this.logs,
      cpuMs: 0,
      heapBytes: 0,
      toolCalls: Math.min(this.toolCalls, this.run.maxToolCalls),
    };
  }

  private failure(category: ExecutionErrorCategory, name: string, message: string): RawOutcome {
    return { ...this.base(), kind: 'error', category, errorName: name, errorMessage: message };
  }

  private finish(outcome: RawOutcome, idle = false): void {
    if (this.finishedFlag) return;
    this.finishedFlag = true;
    for (const timer of this.timers) clearTimeout(timer);
    const { isolate } = this.prepared;
    const alive = !isolate.isDisposed;
    const cpuMs = alive ? Number(isolate.cpuTime - this.cpuAtStart) / 1e6 : 0;
    const reusable = this.endedOnItsOwn && idle && alive;
    this.stopDecided = true;
    this.prepared.session = null;
    this.pendingTools.clear();
    this.disposedByUs = true;
    // Disposing an isolate while calls into it are in flight (tool replies being delivered, `start` still
    // running) crashed the worker with SIGSEGV or wedged it until the host's deadline (isolated-vm 5.0.4;
    // test/hostile-resources.test.ts). Such an isolate is never disposed: the run's result goes out and the
    // worker retires, and the process's end stops whatever the isolate was doing. An isolate with no call in
    // flight is stopped before the result goes out when the run was stopped from outside, after it otherwise.
    const disposable = alive && this.callsInFlight === 0;
    if (!this.endedOnItsOwn && disposable) this.prepared.host.dispose();
    this.host.finished({ ...outcome, cpuMs, heapBytes: this.lastHeapBytes }, reusable);
    if (this.endedOnItsOwn && !reusable && disposable) this.prepared.host.dispose();
  }

  /**
   * Completes a run that ended on its own. Its last call into the isolate normally returns right after the
   * result was reported; once it has, the isolate is idle and a heap reading costs microseconds.
   */
  private async finishMeasured(outcome: RawOutcome): Promise<void> {
    if (this.finishedFlag) return;
    this.endedOnItsOwn = true;
    const { isolate } = this.prepared;
    let idle = !isolate.isDisposed && (await this.whenIdle());
    if (this.finishedFlag) return;
    if (this.callError) {
      const classified = this.classify(this.callError.error);
      if (!classified.ownEnd) {
        this.endedOnItsOwn = false;
        this.finish(classified.outcome);
        return;
      }
      outcome = classified.outcome;
    }
    if (idle) {
      try {
        this.lastHeapBytes = Math.max(this.lastHeapBytes, isolate.getHeapStatisticsSync().used_heap_size);
      } catch {
        // Disposed or in use after all: then it cannot be reused either.
        idle = false;
      }
    }
    this.finish(outcome, idle);
  }
}
