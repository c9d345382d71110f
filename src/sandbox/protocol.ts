/**
 * Messages between the host and a sandbox worker process (Node IPC, JSON). Only plain data travels here;
 * everything that came out of an isolate is a string the worker checked.
 */
import type { ExecutionErrorCategory, ExecutionLimits } from './types.js';

/** The error of a run whose tool arguments and results crossed its byte cap (worker and host say the same). */
export function toolBytesMessage(limit: number): string {
  return `Tool arguments and results exceeded the limit of ${limit} bytes per execution.`;
}

/** One execution: the compiled code, its context and tool names, and the limits it runs under. */
export interface RunMessage extends ExecutionLimits {
  type: 'run';
  id: number;
  /** JavaScript produced by `compile.ts`: a declaration of `__automesh_main__`. */
  code: string;
  /** JSON text of the task context. */
  contextJson: string;
  toolNames: string[];
}

export interface ToolReplyMessage {
  type: 'tool-reply';
  id: number;
  callId: number;
  /** JSON text `{ ok: true, value }` or `{ ok: false, error }`. */
  reply: string;
}

export interface AbortMessage {
  type: 'abort';
  id: number;
  category: ExecutionErrorCategory;
  message: string;
}

export type HostToWorker = RunMessage | ToolReplyMessage | AbortMessage;

export interface ToolCallMessage {
  type: 'tool';
  id: number;
  callId: number;
  name: string;
  argsJson: string;
}

/** Outcome as the worker saw it; the host maps positions back to user code and parses the output. */
export interface RawOutcome {
  kind: 'ok' | 'error';
  /** JSON text of the result when `kind` is `ok`. */
  outputJson: string | null;
  category: ExecutionErrorCategory | null;
  errorName: string | null;
  errorMessage: string | null;
  /** Stack text from inside the isolate (positions in compiled code). */
  stack: string | null;
  logs: string[];
  cpuMs: number;
  heapBytes: number;
  toolCalls: number;
}

export interface DoneMessage {
  type: 'done';
  id: number;
  outcome: RawOutcome;
  /**
   * The worker will not run anything more (its RSS watchdog fired): the pool must not hand it the next
   * execution, which would otherwise die with the exiting process.
   */
  retire?: boolean;
  /** The worker has a context prepared for its next execution (said here rather than in a `spare` message of its own). */
  spare?: boolean;
}

/** What a worker sees of its own confinement (see `confine.ts`), from inside. */
export interface ObservedConfinement {
  /** Node's permission model is on and denies file writes, child processes and worker threads. */
  permissions: boolean;
  /** Names of the network interfaces that are up; none in a network namespace of its own. */
  networkInterfaces: string[];
}

export interface ReadyMessage {
  type: 'ready';
  confinement?: ObservedConfinement;
}

/**
 * The worker has a context prepared: an execution sent now starts without waiting for one. Sent when the first spare
 * of an idle worker is ready; a worker that ends an execution with one ready says so in its `done` instead.
 */
export interface SpareMessage {
  type: 'spare';
}

export type WorkerToHost = ToolCallMessage | DoneMessage | ReadyMessage | SpareMessage;
