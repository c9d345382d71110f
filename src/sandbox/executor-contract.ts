/**
 * The executor contract: what the agent pipeline asks of "something that runs generated code". The worker-pool
 * `Executor` (isolated-vm in child processes) is one implementation; {@link wrapExecutor} puts middleware around
 * any of them (timing, tracing, a policy check).
 */

import type { ToolsInput } from './tools.js';
import type { ExecutionLimits, ExecutionResult } from './types.js';

/** One execution request. */
export interface ExecutionRequest {
  /** The body of an async function, JavaScript or TypeScript. */
  code: string;
  /** Task context, visible as the frozen global `context`; copied as JSON (a Date becomes an ISO string). */
  context?: unknown;
  /** Host functions the code may call, as definitions or as an object of namespaces. */
  tools?: ToolsInput;
  /** Overrides of the executor's limits for this execution. */
  limits?: Partial<ExecutionLimits>;
  /** Cancels the execution; it then ends with category `timeout` and says it was cancelled. */
  signal?: AbortSignal;
}

export interface CodeExecutor {
  /** Runs one program. Never throws for anything the code did: the result says what went wrong. */
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  /** Gets ready to run (starts workers); called by `mesh.start()` before any task. */
  warm(): Promise<void>;
  /** Releases what it holds; executions still running end as `crashed`. */
  close(): Promise<void>;
}
