/**
 * One execution in one fresh isolate, inside a sandbox worker process.
 *
 * The isolate is prepared (created, runtime loaded) before the run is known, so the run itself only
 * compiles and starts the user's program. Every boundary crossing is a string; every host callback is
 * a plain function that never throws (isolated-vm #314: a host callback throwing before its first await
 * takes the process down), and every isolated-vm option object has a null prototype.
 */
import ivm from 'isolated-vm';
import type { ExecutionErrorCategory } from '../types.js';
import type { RawOutcome, RunMessage } from '../protocol.js';

/** Callbacks a session sends out of the worker. */
export interface SessionHost {
  callTool(callId: number, name: string, argsJson: string): void;
  /** `forced`: the isolate was stopped from outside (limit, cap, abort) rather than finishing on its own. */
  finished(outcome: RawOutcome, forced: boolean): void;
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

/** An isolate with the runtime loaded and its host callbacks wired to whichever session adopts it. */
export class PreparedIsolate {
  session: IsolateSession | null = null;

  private constructor(
    readonly isolate: ivm.Isolate,
    readonly context: ivm.Context,
    readonly start: ivm.Reference<(contextJson: string, toolsJson: string, logLimit: number) => void>,
    readonly deliver: ivm.Reference<(callId: number, replyJson: string) => void>,
    readonly memoryMb: number,
  ) {}

  static async create(runtimeSource: string, memoryMb: number): Promise<PreparedIsolate> {
    const isolate = new ivm.Isolate(nullProto({ memoryLimit: memoryMb }));
    try {
      const context = await isolate.createContext();
      let prepared: PreparedIsolate | null = null;
      const jail = context.global;
      // No code but ours has run in this isolate yet, so its lock is free and the *Sync calls below cost
      // microseconds instead of a thread hop each.
      // Callbacks exist before the session does; they route through `prepared.session`.
      jail.setSync('__automesh_log__', new ivm.Callback((level: unknown, text: unknown) => {
        prepared?.session?.onLog(level, text);
      }));
      jail.setSync('__automesh_done__', new ivm.Callback((kind: unknown, payload: unknown) => {
        prepared?.session?.onDone(kind, payload);
      }));
      jail.setSync('__automesh_tool__', new ivm.Callback((name: unknown, argsJson: unknown): number => {
        return prepared?.session?.onTool(name, argsJson) ?? -1;
      }));
      const script = isolate.compileScriptSync(runtimeSource, nullProto({
        filename: RUNTIME_FILENAME,
        ...(runtimeCodeCache ? { cachedData: runtimeCodeCache } : { produceCachedData: true }),
      }));
      // The typings leave the produced cache off compileScriptSync's return type; it is there at run time.
      const produced = (script as ivm.Script & ivm.CachedDataResult).cachedData;
      if (!runtimeCodeCache && produced) runtimeCodeCache = produced;
      script.runSync(context, nullProto({ timeout: 5000 }));
      script.release();
      const start = jail.getSync('__automesh_start__', nullProto({ reference: true as const })) as ivm.Reference<
        (contextJson: string, toolsJson: string, logLimit: number) => void
      >;
      const deliver = jail.getSync('__automesh_deliver__', nullProto({ reference: true as const })) as
        ivm.Reference<(callId: number, replyJson: string) => void>;
      jail.deleteSync('__automesh_start__');
      jail.deleteSync('__automesh_deliver__');
      prepared = new PreparedIsolate(isolate, context, start, deliver, memoryMb);
      return prepared;
    } catch (err) {
      if (!isolate.isDisposed) isolate.dispose();
      throw err;
    }
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

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
  private disposedByUs = false;
  private lastHeapBytes = 0;
  private heapReadInFlight = false;
  private endedOnItsOwn = false;
  /** CPU the isolate had used before the run (creating it and loading the runtime). */
  private cpuAtStart = 0n;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly prepared: PreparedIsolate,
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
    this.timers.push(setTimeout(() => {
      this.terminate('timeout', `Execution exceeded the time limit of ${run.timeoutMs} ms.`);
    }, run.timeoutMs));
    // isolated-vm disposes an isolate on its own when the heap limit is hit, sometimes while no call of
    // ours is in flight to report it; polling catches that case.
    this.timers.push(setInterval(() => this.poll(), 20));
    try {
      this.cpuAtStart = isolate.cpuTime;
      // One call compiles and runs the program text, which only defines `__automesh_main__`.
      await context.eval(run.code, nullProto({ filename: USER_FILENAME, timeout: run.timeoutMs }));
      if (this.finishedFlag) return;
      await start.apply(undefined, [run.contextJson, JSON.stringify(run.toolNames), run.maxLogBytes],
        nullProto({ arguments: nullProto({ copy: true as const }), timeout: run.timeoutMs }));
    } catch (err) {
      this.onHostSideError(err);
    }
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
    isolate.getHeapStatistics().then((stats) => {
      this.lastHeapBytes = Math.max(this.lastHeapBytes, stats.used_heap_size);
    }, () => {
      // Disposed while reading: the next poll reports it.
    }).finally(() => {
      this.heapReadInFlight = false;
    });
  }

  private memoryMessage(): string {
    return `Execution exceeded the memory limit of ${this.run.memoryMb} MB.`;
  }

  private onHostSideError(err: unknown): void {
    if (this.finishedFlag) return;
    const message = err instanceof Error ? err.message : String(err);
    const name = err instanceof Error ? err.name : 'Error';
    if (this.prepared.isolate.isDisposed && !this.disposedByUs) {
      this.finish(this.failure('memory', 'RangeError', this.memoryMessage()));
    } else if (/timed out/i.test(message)) {
      this.finish(this.failure('timeout', 'TimeoutError',
        `Execution exceeded the time limit of ${this.run.timeoutMs} ms.`));
    } else if (MEMORY_MESSAGE.test(message)) {
      this.finish(this.failure('memory', 'RangeError', this.memoryMessage()));
    } else if (name === 'SyntaxError') {
      const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : null;
      this.finish({ ...this.failure('syntax', name, message), stack });
    } else {
      this.finish(this.failure('runtime', name, message));
    }
  }

  onLog(level: unknown, text: unknown): void {
    if (this.finishedFlag || typeof level !== 'string' || typeof text !== 'string') return;
    const line = level === 'log' || level === 'info' ? text : `[${level}] ${text}`;
    this.logBytes += bytes(line) + 1;
    if (this.logBytes > this.run.maxLogBytes) {
      this.logs.push(`[automesh] console output cut at ${this.run.maxLogBytes} bytes`);
      setImmediate(() => this.terminate('output',
        `Console output exceeded the limit of ${this.run.maxLogBytes} bytes; log less, or summarize before logging.`));
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
        setImmediate(() => this.finish(this.failure('output', 'RangeError',
          `The result is ${size} bytes of JSON, over the limit of ${this.run.maxOutputBytes} bytes; ` +
            'return a smaller summary.')));
        return;
      }
      setImmediate(() => void this.finishMeasured({ ...this.base(), kind: 'ok', outputJson: payload }));
    } else if (kind === 'no_result') {
      setImmediate(() => void this.finishMeasured(this.failure('no_result', 'NoResult',
        'The code finished without a result: assign the answer to `result` (e.g. `result = value`) or `return` it.')));
    } else {
      let parsed: { category?: string; name?: string; message?: string; stack?: string };
      try {
        parsed = JSON.parse(payload) as typeof parsed;
      } catch {
        parsed = { message: 'the sandbox runtime reported an unreadable error' };
      }
      const category = (['tool', 'output', 'syntax'].includes(parsed.category ?? '') ? parsed.category : 'runtime') as
        ExecutionErrorCategory;
      const message = String(parsed.message ?? '');
      const finalCategory = category === 'runtime' && /Array buffer allocation failed/.test(message) ? 'memory' : category;
      setImmediate(() => void this.finishMeasured({
        ...this.failure(finalCategory, String(parsed.name ?? 'Error'), message),
        stack: typeof parsed.stack === 'string' ? parsed.stack : null,
      }));
    }
  }

  /** Queues a tool call from the isolate; returns its call id (the reply arrives through `toolReply`). */
  onTool(name: unknown, argsJson: unknown): number {
    if (this.finishedFlag || typeof name !== 'string' || typeof argsJson !== 'string') return -1;
    this.toolCalls += 1;
    if (this.toolCalls > this.run.maxToolCalls) {
      setImmediate(() => this.terminate('tool',
        `Too many tool calls: the limit is ${this.run.maxToolCalls} per execution.`));
      return -1;
    }
    this.toolBytes += bytes(argsJson);
    if (this.toolBytes > this.run.maxToolBytes) {
      setImmediate(() => this.terminate('output',
        `Tool arguments and results exceeded the limit of ${this.run.maxToolBytes} bytes per execution.`));
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
    if (this.finishedFlag || !this.pendingTools.delete(callId)) return;
    this.toolBytes += bytes(reply);
    if (this.toolBytes > this.run.maxToolBytes) {
      this.terminate('output',
        `Tool arguments and results exceeded the limit of ${this.run.maxToolBytes} bytes per execution.`);
      return;
    }
    this.prepared.deliver.apply(undefined, [callId, reply],
      nullProto({ arguments: nullProto({ copy: true as const }), timeout: this.run.timeoutMs }))
      .catch((err: unknown) => this.onHostSideError(err));
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

  private finish(outcome: RawOutcome): void {
    if (this.finishedFlag) return;
    this.finishedFlag = true;
    for (const timer of this.timers) clearTimeout(timer);
    const { isolate } = this.prepared;
    const alive = !isolate.isDisposed;
    const cpuMs = alive ? Number(isolate.cpuTime - this.cpuAtStart) / 1e6 : 0;
    const forced = !this.endedOnItsOwn;
    this.prepared.session = null;
    this.pendingTools.clear();
    this.disposedByUs = true;
    // Code stopped from outside may still be spinning: stop it before anything else. A run that ended on
    // its own is idle, so its result goes out first and the dispose happens off the critical path.
    if (forced && alive) this.prepared.dispose();
    this.host.finished({ ...outcome, cpuMs, heapBytes: this.lastHeapBytes }, forced);
    if (!forced && alive) this.prepared.dispose();
  }

  /** Completes a run that ended on its own: the isolate is idle, so a last heap reading is cheap. */
  private async finishMeasured(outcome: RawOutcome): Promise<void> {
    if (this.finishedFlag) return;
    this.endedOnItsOwn = true;
    const { isolate } = this.prepared;
    if (!isolate.isDisposed) {
      let timer: NodeJS.Timeout | undefined;
      const stats = await Promise.race([
        isolate.getHeapStatistics().catch(() => null),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), 20);
        }),
      ]);
      clearTimeout(timer);
      if (stats) this.lastHeapBytes = Math.max(this.lastHeapBytes, stats.used_heap_size);
    }
    this.finish(outcome);
  }
}
