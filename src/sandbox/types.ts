import type { ExecutionCategory } from '../core/error-categories.js';

/**
 * Why an execution failed: the categories of `core/error-categories.ts` that arise in the sandbox. `crashed` means
 * the worker process running it died or stopped answering.
 */
export type ExecutionErrorCategory = ExecutionCategory;

/** Limits of one execution. Every field has a default from the settings (see `src/config/settings.ts`). */
export interface ExecutionLimits {
  /** Wall-clock limit in milliseconds, covering synchronous work, awaited promises and tool calls. */
  timeoutMs: number;
  /** V8 heap limit of the isolate in MiB (isolated-vm's `memoryLimit`, at least 8). */
  memoryMb: number;
  /** Largest result, as UTF-8 bytes of its JSON text. */
  maxOutputBytes: number;
  /** Largest total console output, in UTF-8 bytes. */
  maxLogBytes: number;
  /** Most tool calls one execution may make. */
  maxToolCalls: number;
  /** Largest total of tool arguments plus tool results, as UTF-8 bytes of their JSON text. */
  maxToolBytes: number;
}

/** What an execution returns. The executor never throws for anything the executed code did. */
export interface ExecutionResult {
  status: 'success' | 'failure';
  /** The value of `result` (or of `return`), as plain JSON data; `null` unless `status` is `success`. */
  output: unknown;
  /** Console output, one entry per call; `warn`, `error`, `debug` and `trace` entries carry a `[level]` prefix. */
  logs: string[];
  /** A message saying what went wrong, with the user-code line where one is known; `null` on success. */
  error: string | null;
  errorCategory: ExecutionErrorCategory | null;
  /** Line (1-based) in the code as given, of a syntax or runtime error, when known. */
  errorLine: number | null;
  /** Column (1-based) in the code as given, when known. */
  errorColumn: number | null;
  /** Wall-clock milliseconds from submission to result, including queueing for a free worker. */
  durationMs: number;
  /** CPU milliseconds the isolate used. */
  cpuMs: number;
  /** Bytes of the isolate's V8 heap in use at the end of the run (last reading when the isolate was killed). */
  heapBytes: number;
  /** Number of tool calls the code made. */
  toolCalls: number;
}
