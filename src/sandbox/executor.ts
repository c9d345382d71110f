/**
 * The executor: runs generated code in a fresh V8 context inside a pool of worker processes, with the task's
 * context and the user's tools injected, and returns an {@link ExecutionResult}. It never throws for
 * anything the code did; it throws only for programmer errors (bad tools, a context that is not JSON data,
 * a closed executor).
 */
import { AsyncResource } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { loadSandboxSettings, type SandboxSettings } from '../config/sandbox-settings.js';
import { watchAbort } from '../core/abort.js';
import { type CompiledProgram, compileProgram, toUserPosition } from './compile.js';
import { confirmedConfinement, type WorkerConfinement } from './confine.js';
import type { CodeExecutor, ExecutionRequest } from './executor-contract.js';
import { WorkerPool } from './pool.js';
import { type RawOutcome, toolBytesMessage } from './protocol.js';
import { invokeTool } from './tool-bridge.js';
import { normalizeTools } from './tools.js';
import type { ExecutionLimits, ExecutionResult } from './types.js';

export type { ExecutionRequest };

export interface ExecutorOptions {
  /** Default limits; unset fields come from the settings (`EXECUTION_TIMEOUT`, `SANDBOX_MEMORY_MB`, ...). */
  limits?: Partial<ExecutionLimits>;
  /** Worker processes (`SANDBOX_WORKERS`). */
  workers?: number;
  /** Milliseconds past the time limit before a silent worker is killed (default 1000). */
  graceMs?: number;
  /** Settings source; defaults to the process environment. */
  settings?: SandboxSettings;
}

/** Limits from settings, as the executor applies them. */
export function limitsFromSettings(settings: SandboxSettings): ExecutionLimits {
  return {
    timeoutMs: Math.round(settings.EXECUTION_TIMEOUT * 1000),
    memoryMb: settings.SANDBOX_MEMORY_MB,
    maxOutputBytes: settings.SANDBOX_MAX_OUTPUT_BYTES,
    maxLogBytes: settings.SANDBOX_MAX_LOG_BYTES,
    maxToolCalls: settings.SANDBOX_MAX_TOOL_CALLS,
    maxToolBytes: settings.SANDBOX_MAX_TOOL_BYTES,
  };
}

function checkLimits(limits: ExecutionLimits): ExecutionLimits {
  const rules: Array<[keyof ExecutionLimits, number]> = [
    ['timeoutMs', 1],
    ['memoryMb', 8],
    ['maxOutputBytes', 16],
    ['maxLogBytes', 0],
    ['maxToolCalls', 0],
    ['maxToolBytes', 0],
  ];
  for (const [key, min] of rules) {
    const value = limits[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new RangeError(`Execution limit ${key} must be a number >= ${min}; got ${String(value)}.`);
    }
  }
  return limits;
}

function contextToJson(context: unknown): string {
  if (context === undefined) return '{}';
  let json: string | undefined;
  try {
    json = JSON.stringify(context);
  } catch (err) {
    throw new TypeError(`The execution context must be JSON data: ${(err as Error).message}.`);
  }
  if (json === undefined) throw new TypeError('The execution context must be JSON data (an object).');
  return json;
}

/**
 * Largest program accepted. Parsing happens on the host's thread before any limit applies: a 13 MB program
 * stalled the host's event loop for ~430 ms (test/hostile-resources.test.ts). Generated code is far smaller.
 */
export const MAX_CODE_BYTES = 1 << 20;

/** Floor of the compile deadline, so that tiny time limits still leave room to start esbuild. */
const COMPILE_MIN_DEADLINE_MS = 1000;

const STACK_FRAME = /^\s+at .*?user-code\.(?:js|ts):(\d+):(\d+)\)?\s*$/;

function locate(program: CompiledProgram, stack: string | null): { line: number; column: number } | null {
  if (!stack) return null;
  for (const line of stack.split('\n')) {
    const match = STACK_FRAME.exec(line);
    if (match) {
      const position = toUserPosition(program, Number(match[1]), Number(match[2]));
      if (position) return position;
    }
  }
  return null;
}

/** The sandbox: a {@link CodeExecutor} over a pool of isolated-vm worker processes. */
export class Executor implements CodeExecutor {
  private readonly pool: WorkerPool;
  private readonly defaults: ExecutionLimits;

  constructor(options: ExecutorOptions = {}) {
    const settings = options.settings ?? loadSandboxSettings();
    this.defaults = checkLimits({ ...limitsFromSettings(settings), ...options.limits });
    this.pool = new WorkerPool({
      size: options.workers ?? settings.SANDBOX_WORKERS,
      defaultMemoryMb: this.defaults.memoryMb,
      graceMs: options.graceMs ?? 1000,
    });
  }

  /** The limits an execution gets when it sets none. */
  get limits(): Readonly<ExecutionLimits> {
    return this.defaults;
  }

  /** Worker processes started so far (replacements of dead workers included). */
  get workersStarted(): number {
    return this.pool.spawned;
  }

  /**
   * What confines the worker processes (permission model, network namespace), as asked for and as the first
   * worker saw it from inside; known once a worker has started (after {@link warm}).
   */
  get confinement(): WorkerConfinement {
    return confirmedConfinement(this.pool.observed);
  }

  /** Starts the worker processes now rather than on the first execution. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** Stops the worker processes. Executions still running end as `crashed`. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Runs one piece of generated code. Never throws for anything the code did. */
  async execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const started = performance.now();
    if (typeof request.code !== 'string') throw new TypeError('execute() needs the code as a string.');
    const limits = checkLimits({ ...this.defaults, ...request.limits });
    const tools = normalizeTools(request.tools);
    const contextJson = contextToJson(request.context);
    const elapsed = (): number => performance.now() - started;

    // Compiling counts against the time limit too: pathological code can keep esbuild busy for minutes.
    const codeBytes = Buffer.byteLength(request.code, 'utf8');
    if (codeBytes > MAX_CODE_BYTES) {
      return {
        status: 'failure',
        output: null,
        logs: [],
        errorCategory: 'syntax',
        errorLine: null,
        errorColumn: null,
        error: `The code is ${codeBytes} bytes, over the limit of ${MAX_CODE_BYTES}; write a shorter program.`,
        durationMs: elapsed(),
        cpuMs: 0,
        heapBytes: 0,
        toolCalls: 0,
      };
    }
    const compiled = await compileProgram(request.code, Math.max(limits.timeoutMs, COMPILE_MIN_DEADLINE_MS));
    if (!compiled.ok) {
      return {
        status: 'failure',
        output: null,
        logs: [],
        error: compiled.message,
        errorCategory: compiled.category ?? 'syntax',
        errorLine: compiled.line,
        errorColumn: compiled.column,
        durationMs: elapsed(),
        cpuMs: 0,
        heapBytes: 0,
        toolCalls: 0,
      };
    }
    if (request.signal?.aborted) return this.cancelled(elapsed());

    let runId = 0;
    // The cap on tool bytes is counted here as well as in the worker, so that a reply over it is never built
    // or sent: the worker would only refuse it after the host had spent the memory shipping it.
    let toolBytes = 0;
    const overToolBytes = (): void => this.pool.abort(runId, 'output', toolBytesMessage(limits.maxToolBytes));
    const callTool = (callId: number, name: string, argsJson: string): void => {
      toolBytes += Buffer.byteLength(argsJson, 'utf8');
      if (toolBytes > limits.maxToolBytes) return overToolBytes();
      void invokeTool(tools, name, argsJson, () => limits.maxToolBytes - toolBytes).then((reply) => {
        if (reply.kind === 'over-cap') return overToolBytes();
        toolBytes += reply.bytes;
        this.pool.replyTool(runId, callId, reply.text);
      });
    };
    // Tools run in this execute() call's async context, not the IPC message's: a tool's own calls (this.peers.ask,
    // mesh.call) then carry the task's peer session and trace. A resource entered per call, not
    // `AsyncResource.bind`, which costs ~13-28 µs (it defines deprecated accessors) on every execution, tools or not.
    const scope = new AsyncResource('automesh.sandbox.tools');
    const { id, done } = this.pool.run({
      message: {
        code: compiled.js,
        contextJson,
        toolNames: [...tools.keys()],
        ...limits,
      },
      onTool: (callId, name, argsJson) => scope.runInAsyncScope(callTool, null, callId, name, argsJson),
    });
    runId = id;
    const stopWatching = request.signal
      ? watchAbort(request.signal, () => this.pool.abort(id, 'timeout', 'Execution was cancelled by the caller.'))
      : undefined;
    let outcome: RawOutcome;
    try {
      outcome = await done;
    } finally {
      stopWatching?.();
    }
    return this.toResult(compiled, outcome, elapsed());
  }

  private cancelled(durationMs: number): ExecutionResult {
    return {
      status: 'failure',
      output: null,
      logs: [],
      error: 'Execution was cancelled by the caller.',
      errorCategory: 'timeout',
      errorLine: null,
      errorColumn: null,
      durationMs,
      cpuMs: 0,
      heapBytes: 0,
      toolCalls: 0,
    };
  }

  private toResult(program: CompiledProgram, outcome: RawOutcome, durationMs: number): ExecutionResult {
    const common = {
      logs: outcome.logs,
      durationMs,
      cpuMs: outcome.cpuMs,
      heapBytes: outcome.heapBytes,
      toolCalls: outcome.toolCalls,
    };
    if (outcome.kind === 'ok' && outcome.outputJson !== null) {
      return {
        status: 'success',
        output: JSON.parse(outcome.outputJson) as unknown,
        error: null,
        errorCategory: null,
        errorLine: null,
        errorColumn: null,
        ...common,
      };
    }
    const category = outcome.category ?? 'runtime';
    const position =
      category === 'runtime' || category === 'tool' || category === 'syntax' || category === 'output'
        ? locate(program, outcome.stack)
        : null;
    let message = outcome.errorMessage ?? 'Execution failed.';
    if (category === 'runtime' || category === 'tool' || category === 'syntax') {
      const name = outcome.errorName && outcome.errorName !== 'Error' ? `${outcome.errorName}: ` : 'Error: ';
      message = `${name}${message}`;
    }
    if (position) message += ` (at line ${position.line}, column ${position.column})`;
    return {
      status: 'failure',
      output: null,
      error: message,
      errorCategory: category,
      errorLine: position?.line ?? null,
      errorColumn: position?.column ?? null,
      ...common,
    };
  }
}
